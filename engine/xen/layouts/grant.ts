/** grant_table_op (hypercall 20) argument structs (arrays of `count` of these). */

import { f, h, struct, union } from './ctypes';

export const mapGrantRef = struct('struct gnttab_map_grant_ref', [
  f('host_addr', 'u64'), f('flags', 'u32'), f('ref', 'u32'), f('dom', 'u16'), f('status', 'i16'), f('handle', 'u32'), f('dev_bus_addr', 'u64'),
]);
export const unmapGrantRef = struct('struct gnttab_unmap_grant_ref', [
  f('host_addr', 'u64'), f('dev_bus_addr', 'u64'), f('handle', 'u32'), f('status', 'i16'),
]);
export const setupTable = struct('struct gnttab_setup_table', [f('dom', 'u16'), f('nr_frames', 'u32'), f('status', 'i16'), h('frame_list', 'u64')]);
export const dumpTable = struct('struct gnttab_dump_table', [f('dom', 'u16'), f('status', 'i16')]);
export const transfer = struct('struct gnttab_transfer', [f('mfn', 'u64'), f('domid', 'u16'), f('ref', 'u32'), f('status', 'i16')]);
const copyPtr = struct('struct gnttab_copy_ptr', [
  f('u', union('', [f('ref', 'u32'), f('gmfn', 'u64')])), f('domid', 'u16'), f('offset', 'u16'),
]);
export const copy = struct('struct gnttab_copy', [f('source', copyPtr), f('dest', copyPtr), f('len', 'u16'), f('flags', 'u16'), f('status', 'i16')]);
export const querySize = struct('struct gnttab_query_size', [f('dom', 'u16'), f('nr_frames', 'u32'), f('max_nr_frames', 'u32'), f('status', 'i16')]);
export const unmapAndReplace = struct('struct gnttab_unmap_and_replace', [f('host_addr', 'u64'), f('new_addr', 'u64'), f('handle', 'u32'), f('status', 'i16')]);
export const setVersion = struct('struct gnttab_set_version', [f('version', 'u32')]);
export const getStatusFrames = struct('struct gnttab_get_status_frames', [f('nr_frames', 'u32'), f('dom', 'u16'), f('status', 'i16'), h('frame_list', 'u64')]);
export const getVersion = struct('struct gnttab_get_version', [f('dom', 'u16'), f('pad', 'u16'), f('version', 'u32')]);
export const swapGrantRef = struct('struct gnttab_swap_grant_ref', [f('ref_a', 'u32'), f('ref_b', 'u32'), f('status', 'i16')]);
export const cacheFlush = struct('struct gnttab_cache_flush', [
  f('a', union('', [f('dev_bus_addr', 'u64'), f('ref', 'u32')])), f('offset', 'u16'), f('length', 'u16'), f('op', 'u32'),
]);
