/** memory_op (hypercall 12): `memory_op(cmd, arg)`; cmd's low 6 bits select, the rest is continuation state. */

import { HypercallDecl } from './decl';
import { arrayOf, IN, INOUT, op, OUT, SELECT } from './helpers';
import * as M from '../layouts/memory';
import { StructType } from '../layouts/ctypes';

/** XENMEM_* numbers used by the simulator too. */
export const XENMEM = {
  increase_reservation: 0, decrease_reservation: 1, maximum_ram_page: 2, current_reservation: 3, maximum_reservation: 4,
  machphys_mfn_list: 5, populate_physmap: 6, add_to_physmap: 7, memory_map: 9, machine_memory_map: 10, exchange: 11,
  machphys_mapping: 12, set_memory_map: 13, maximum_gpfn: 14, remove_from_physmap: 15, set_pod_target: 16,
  get_pod_target: 17, get_sharing_freed_pages: 18, get_sharing_shared_pages: 19, access_op: 21,
  add_to_physmap_batch: 23, claim_pages: 24, machphys_compat_mfn_list: 25, get_vnumainfo: 26, acquire_resource: 28,
} as const;

const at = (type: StructType) => ({ root: { arg: 1, type } });
const reservationHeader = IN('extent_start', 'nr_extents', 'extent_order', 'mem_flags', 'domid');

export const memoryOpDecl: HypercallDecl = {
  nr: 12,
  name: 'memory_op',
  args: ['cmd', 'arg'],
  shape: { kind: 'arg', arg: 0, mask: 0x3fn },
  subops: [
    // The array receives MFNs; Xen returns the number of extents done (partial success).
    op('increase_reservation', 0, [reservationHeader,
      arrayOf('extent_start', 'u64', { field: 'nr_extents' }, 'out', { nullOk: true, postCount: { result: true } })], at(M.memoryReservation)),
    op('decrease_reservation', 1, [reservationHeader, arrayOf('extent_start', 'u64', { field: 'nr_extents' }, 'in')], at(M.memoryReservation)),
    op('maximum_ram_page', 2, []),
    op('current_reservation', 3, [IN('domid')], at(M.domidArg)),
    op('maximum_reservation', 4, [IN('domid')], at(M.domidArg)),
    op('machphys_mfn_list', 5, [IN('max_extents', 'extent_start'), OUT('nr_extents'),
      arrayOf('extent_start', 'u64', { field: 'max_extents' }, 'out', { postCount: { field: 'nr_extents' } })], at(M.machphysMfnList)),
    op('populate_physmap', 6, [reservationHeader,
      arrayOf('extent_start', 'u64', { field: 'nr_extents' }, 'inout', { postCount: { result: true } })], at(M.memoryReservation)),
    // `size` only matters for XENMAPSPACE_gmfn_range (2).
    op('add_to_physmap', 7, [IN('domid', 'space', 'idx', 'gpfn'), { when: 'space', eq: 2, then: [IN('size')] }], at(M.addToPhysmap)),
    op('memory_map', 9, [IN('buffer'), INOUT('nr_entries'), arrayOf('buffer', M.e820Entry, { field: 'nr_entries' }, 'out')], at(M.memoryMap)),
    op('machine_memory_map', 10, [IN('buffer'), INOUT('nr_entries'), arrayOf('buffer', M.e820Entry, { field: 'nr_entries' }, 'out')], at(M.memoryMap)),
    op('exchange', 11, [
      IN('in.extent_start', 'in.nr_extents', 'in.extent_order', 'in.mem_flags', 'in.domid',
        'out.extent_start', 'out.nr_extents', 'out.extent_order', 'out.mem_flags', 'out.domid'),
      INOUT('nr_exchanged'),
      arrayOf('in.extent_start', 'u64', { field: 'in.nr_extents' }, 'in'),
      arrayOf('out.extent_start', 'u64', { field: 'out.nr_extents' }, 'out'),
    ], at(M.memoryExchange)),
    op('machphys_mapping', 12, [OUT('')], at(M.machphysMapping)),
    op('set_memory_map', 13, [IN('domid', 'map.nr_entries', 'map.buffer'),
      arrayOf('map.buffer', M.e820Entry, { field: 'map.nr_entries' }, 'in')], at(M.foreignMemoryMap)),
    op('maximum_gpfn', 14, [IN('domid')], at(M.domidArg)),
    op('remove_from_physmap', 15, [IN('domid', 'gpfn')], at(M.removeFromPhysmap)),
    op('set_pod_target', 16, [IN('target_pages', 'domid'), OUT('tot_pages', 'pod_cache_pages', 'pod_entries')], at(M.podTarget)),
    op('get_pod_target', 17, [IN('domid'), OUT('target_pages', 'tot_pages', 'pod_cache_pages', 'pod_entries')], at(M.podTarget)),
    op('get_sharing_freed_pages', 18, []),
    op('get_sharing_shared_pages', 19, []),
    op('access_op', 21, [IN('op', 'domid'), SELECT('op', {
      0: ['set_access', [IN('access', 'nr', 'pfn')]],
      1: ['get_access', [IN('pfn'), OUT('access')]],
      4: ['set_access_multi', [IN('nr', 'pfn_list', 'access_list'),
        arrayOf('pfn_list', 'u64', { field: 'nr' }, 'in'), arrayOf('access_list', 1, { field: 'nr' }, 'in')]],
    })], at(M.memAccessOp)),
    op('add_to_physmap_batch', 23, [IN('domid', 'space', 'size', 'u.foreign_domid', 'idxs', 'gpfns', 'errs'),
      arrayOf('idxs', 'u64', { field: 'size' }, 'in'), arrayOf('gpfns', 'u64', { field: 'size' }, 'in'),
      arrayOf('errs', 'i32', { field: 'size' }, 'out')], at(M.addToPhysmapBatch)),
    // A claim names an amount, never an extent array.
    op('claim_pages', 24, [IN('nr_extents', 'extent_order', 'mem_flags', 'domid')], at(M.memoryReservation)),
    op('machphys_compat_mfn_list', 25, [IN('max_extents', 'extent_start'), OUT('nr_extents'),
      arrayOf('extent_start', 'u64', { field: 'max_extents' }, 'out', { postCount: { field: 'nr_extents' } })], at(M.machphysMfnList)),
    op('get_vnumainfo', 26, [IN('domid', 'vdistance.h', 'vcpu_to_vnode.h', 'vmemrange.h'), INOUT('nr_vnodes', 'nr_vcpus', 'nr_vmemranges'),
      arrayOf('vdistance.h', 'u32', { field: 'nr_vnodes', square: true }, 'out'),
      arrayOf('vcpu_to_vnode.h', 'u32', { field: 'nr_vcpus' }, 'out'),
      arrayOf('vmemrange.h', 32, { field: 'nr_vmemranges' }, 'out')], at(M.vnumaTopologyInfo)),
    // A NULL frame_list asks for the resource's size (returned in nr_frames).
    op('acquire_resource', 28, [IN('domid', 'type', 'id', 'frame', 'frame_list'), INOUT('nr_frames'),
      arrayOf('frame_list', 'u64', { field: 'nr_frames' }, 'inout', { nullOk: true })], at(M.acquireResource)),
  ],
};
