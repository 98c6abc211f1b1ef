/** dm_op (hypercall 41 and IOCTL_PRIVCMD_DM_OP): buffer descriptors and `struct xen_dm_op`. */

import { arr, f, h, struct, union } from './ctypes';

export const dmOpBuf = struct('struct xen_dm_op_buf', [h('h', 'u8'), f('size', 'u64')]);

export const createIoreqServer = struct('struct xen_dm_op_create_ioreq_server', [f('handle_bufioreq', 'u8'), f('pad', arr('u8', 3)), f('id', 'u16')]);
export const getIoreqServerInfo = struct('struct xen_dm_op_get_ioreq_server_info', [
  f('id', 'u16'), f('flags', 'u16'), f('bufioreq_port', 'u32'), f('ioreq_gfn', 'u64'), f('bufioreq_gfn', 'u64'),
]);
export const ioreqServerRange = struct('struct xen_dm_op_ioreq_server_range', [f('id', 'u16'), f('pad', 'u16'), f('type', 'u32'), f('start', 'u64'), f('end', 'u64')]);
export const setIoreqServerState = struct('struct xen_dm_op_set_ioreq_server_state', [f('id', 'u16'), f('enabled', 'u8'), f('pad', 'u8')]);
export const destroyIoreqServer = struct('struct xen_dm_op_destroy_ioreq_server', [f('id', 'u16'), f('pad', 'u16')]);
export const trackDirtyVram = struct('struct xen_dm_op_track_dirty_vram', [f('nr', 'u32'), f('pad', 'u32'), f('first_pfn', 'u64')]);
export const setPciIntxLevel = struct('struct xen_dm_op_set_pci_intx_level', [f('domain', 'u16'), f('bus', 'u8'), f('device', 'u8'), f('intx', 'u8'), f('level', 'u8')]);
export const setIsaIrqLevel = struct('struct xen_dm_op_set_isa_irq_level', [f('isa_irq', 'u8'), f('level', 'u8')]);
export const setPciLinkRoute = struct('struct xen_dm_op_set_pci_link_route', [f('link', 'u8'), f('isa_irq', 'u8')]);
export const modifiedMemory = struct('struct xen_dm_op_modified_memory', [f('nr_extents', 'u32'), f('opaque', 'u32')]);
export const setMemType = struct('struct xen_dm_op_set_mem_type', [f('nr', 'u32'), f('mem_type', 'u16'), f('pad', 'u16'), f('first_pfn', 'u64')]);
export const injectEvent = struct('struct xen_dm_op_inject_event', [
  f('vcpuid', 'u32'), f('vector', 'u8'), f('type', 'u8'), f('insn_len', 'u8'), f('pad0', 'u8'), f('error_code', 'u32'), f('pad1', 'u32'), f('cr2', 'u64'),
]);
export const injectMsi = struct('struct xen_dm_op_inject_msi', [f('data', 'u32'), f('pad', 'u32'), f('addr', 'u64')]);
export const mapMemTypeToIoreqServer = struct('struct xen_dm_op_map_mem_type_to_ioreq_server', [f('id', 'u16'), f('type', 'u16'), f('flags', 'u32'), f('opaque', 'u64')]);
export const remoteShutdown = struct('struct xen_dm_op_remote_shutdown', [f('reason', 'u32')]);
export const relocateMemory = struct('struct xen_dm_op_relocate_memory', [f('size', 'u32'), f('pad', 'u32'), f('src_gfn', 'u64'), f('dst_gfn', 'u64')]);
export const pinMemoryCacheattr = struct('struct xen_dm_op_pin_memory_cacheattr', [f('start', 'u64'), f('end', 'u64'), f('type', 'u32'), f('pad', 'u32')]);
export const setIrqLevel = struct('struct xen_dm_op_set_irq_level', [f('irq', 'u32'), f('level', 'u8'), f('pad', arr('u8', 3))]);
export const nrVcpus = struct('struct xen_dm_op_nr_vcpus', [f('vcpus', 'u32')]);

export const dmOp = struct('struct xen_dm_op', [
  f('op', 'u32'), f('pad', 'u32'),
  f('u', union('', [
    f('create_ioreq_server', createIoreqServer), f('get_ioreq_server_info', getIoreqServerInfo),
    f('map_io_range_to_ioreq_server', ioreqServerRange), f('unmap_io_range_from_ioreq_server', ioreqServerRange),
    f('set_ioreq_server_state', setIoreqServerState), f('destroy_ioreq_server', destroyIoreqServer),
    f('track_dirty_vram', trackDirtyVram), f('set_pci_intx_level', setPciIntxLevel), f('set_isa_irq_level', setIsaIrqLevel),
    f('set_pci_link_route', setPciLinkRoute), f('modified_memory', modifiedMemory), f('set_mem_type', setMemType),
    f('inject_event', injectEvent), f('inject_msi', injectMsi), f('map_mem_type_to_ioreq_server', mapMemTypeToIoreqServer),
    f('remote_shutdown', remoteShutdown), f('relocate_memory', relocateMemory), f('pin_memory_cacheattr', pinMemoryCacheattr),
    f('set_irq_level', setIrqLevel), f('nr_vcpus', nrVcpus),
  ])),
]);
/** Element of the modified_memory extent array (second buffer). */
export const modifiedMemoryExtent = struct('struct xen_dm_op_modified_memory_extent', [f('nr', 'u32'), f('pad', 'u32'), f('first_pfn', 'u64')]);
