/** memory_op (hypercall 12) argument structs, Xen 4.17 amd64 (stable ABI, ungated). */

import { arr, f, h, struct, union } from './ctypes';

export const memoryReservation = struct('struct xen_memory_reservation', [
  h('extent_start', 'u64'),
  f('nr_extents', 'u64'),
  f('extent_order', 'u32'),
  f('mem_flags', 'u32'),
  f('domid', 'u16'),
]);
export const memoryExchange = struct('struct xen_memory_exchange', [
  f('in', memoryReservation), f('out', memoryReservation), f('nr_exchanged', 'u64'),
]);
export const machphysMfnList = struct('struct xen_machphys_mfn_list', [
  f('max_extents', 'u32'), h('extent_start', 'u64'), f('nr_extents', 'u32'),
]);
export const machphysMapping = struct('struct xen_machphys_mapping', [f('v_start', 'u64'), f('v_end', 'u64'), f('max_mfn', 'u64')]);
export const addToPhysmap = struct('struct xen_add_to_physmap', [
  f('domid', 'u16'), f('size', 'u16'), f('space', 'u32'), f('idx', 'u64'), f('gpfn', 'u64'),
]);
export const addToPhysmapBatch = struct('struct xen_add_to_physmap_batch', [
  f('domid', 'u16'), f('space', 'u16'), f('size', 'u16'),
  f('u', union('union xen_add_to_physmap_batch_extra', [f('foreign_domid', 'u16'), f('res0', 'u16')])),
  h('idxs', 'u64'), h('gpfns', 'u64'), h('errs', 'i32'),
]);
export const removeFromPhysmap = struct('struct xen_remove_from_physmap', [f('domid', 'u16'), f('gpfn', 'u64')]);
/** e820 entry as Xen writes it into memory_map buffers: packed, 20 bytes (not a public-header type). */
export const e820Entry = struct('(e820entry)', [f('addr', 'u64'), f('size', 'u64'), f('type', 'u32')], { packed: true });
export const memoryMap = struct('struct xen_memory_map', [f('nr_entries', 'u32'), h('buffer', e820Entry)]);
export const foreignMemoryMap = struct('struct xen_foreign_memory_map', [f('domid', 'u16'), f('map', memoryMap)]);
export const podTarget = struct('struct xen_pod_target', [
  f('target_pages', 'u64'), f('tot_pages', 'u64'), f('pod_cache_pages', 'u64'), f('pod_entries', 'u64'), f('domid', 'u16'),
]);
export const memAccessOp = struct('struct xen_mem_access_op', [
  f('op', 'u8'), f('access', 'u8'), f('domid', 'u16'), f('nr', 'u32'), f('pfn', 'u64'),
  h('pfn_list', 'u64'), h('access_list', 'u8'),
]);
export const acquireResource = struct('struct xen_mem_acquire_resource', [
  f('domid', 'u16'), f('type', 'u16'), f('id', 'u32'), f('nr_frames', 'u32'), f('pad', 'u32'),
  f('frame', 'u64'), h('frame_list', 'u64'),
]);
export const vnumaTopologyInfo = struct('struct xen_vnuma_topology_info', [
  f('domid', 'u16'), f('pad', 'u16'), f('nr_vnodes', 'u32'), f('nr_vcpus', 'u32'), f('nr_vmemranges', 'u32'),
  f('vdistance', union('', [h('h', 'u32'), f('pad', 'u64')])),
  f('vcpu_to_vnode', union('', [h('h', 'u32'), f('pad', 'u64')])),
  f('vmemrange', union('', [h('h', 'u8'), f('pad', 'u64')])),
]);
/** A bare domid_t argument (maximum_gpfn, current/maximum_reservation). */
export const domidArg = struct('domid_t', [f('domid', 'u16')]);
export const e820Max = arr(e820Entry, 128);
