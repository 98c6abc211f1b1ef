/** hvm_op (hypercall 34) argument structs (ops 6/8/14 are the pre-4.9 ones, moved to dm_op later). */

import { arr, f, h, struct, union } from './ctypes';
import { R } from './releases';

export const hvmParam = struct('struct xen_hvm_param', [f('domid', 'u16'), f('pad', 'u16'), f('index', 'u32'), f('value', 'u64')]);
export const setPciIntxLevel = struct('struct xen_hvm_set_pci_intx_level', [
  f('domid', 'u16'), f('domain', 'u8'), f('bus', 'u8'), f('device', 'u8'), f('intx', 'u8'), f('level', 'u8'),
], { until: R(4, 8) });
export const setIsaIrqLevel = struct('struct xen_hvm_set_isa_irq_level', [f('domid', 'u16'), f('isa_irq', 'u8'), f('level', 'u8')], { until: R(4, 8) });
export const setPciLinkRoute = struct('struct xen_hvm_set_pci_link_route', [f('domid', 'u16'), f('link', 'u8'), f('isa_irq', 'u8')], { until: R(4, 8) });
export const trackDirtyVram = struct('struct xen_hvm_track_dirty_vram', [f('domid', 'u16'), f('first_pfn', 'u64'), f('nr', 'u64'), h('dirty_bitmap', 'u8')], { until: R(4, 8) });
export const setMemType = struct('struct xen_hvm_set_mem_type', [f('domid', 'u16'), f('hvmmem_type', 'u16'), f('nr', 'u32'), f('first_pfn', 'u64')], { until: R(4, 8) });
export const pagetableDying = struct('struct xen_hvm_pagetable_dying', [f('domid', 'u16'), f('pad', arr('u16', 3)), f('gpa', 'u64')]);
export const getTime = struct('struct xen_hvm_get_time', [f('now', 'u64')]);
export const setMemAccess = struct('struct xen_hvm_set_mem_access', [f('domid', 'u16'), f('hvmmem_access', 'u16'), f('nr', 'u32'), f('first_pfn', 'u64')], { until: R(4, 4) });
export const getMemAccess = struct('struct xen_hvm_get_mem_access', [f('domid', 'u16'), f('hvmmem_access', 'u16'), f('pfn', 'u64')], { until: R(4, 4) });
export const injectTrap = struct('struct xen_hvm_inject_trap', [
  f('domid', 'u16'), f('vcpuid', 'u32'), f('vector', 'u32'), f('type', 'u32'), f('error_code', 'u32'), f('insn_len', 'u32'), f('cr2', 'u64'),
], { until: R(4, 8) });
export const getMemType = struct('struct xen_hvm_get_mem_type', [f('domid', 'u16'), f('mem_type', 'u16'), f('pad', arr('u16', 2)), f('pfn', 'u64')]);
export const evtchnUpcallVector = struct('struct xen_hvm_evtchn_upcall_vector', [f('vcpu', 'u32'), f('vector', 'u8')]);
/** altp2m: header fields; the 64-byte union is declared per cmd by offset 16. */
export const altp2mOp = struct('struct xen_hvm_altp2m_op', [
  f('version', 'u32'), f('cmd', 'u32'), f('domain', 'u16'), f('pad1', 'u16'), f('pad2', 'u32'),
  f('u', union('', [
    f('domain_state', struct('', [f('state', 'u8')])),
    f('enable_notify', struct('', [f('vcpu_id', 'u32'), f('pad', 'u32'), f('gfn', 'u64')])),
    f('view', struct('', [f('view', 'u16'), f('hvmmem_default_access', 'u16')])),
    f('mem_access', struct('', [f('view', 'u16'), f('access', 'u16'), f('pad', 'u32'), f('gfn', 'u64')])),
    f('change_gfn', struct('', [f('view', 'u16'), f('pad1', 'u16'), f('pad2', 'u32'), f('old_gfn', 'u64'), f('new_gfn', 'u64')])),
    f('disable_notify', struct('', [f('vcpu_id', 'u32')])),
    f('pad', arr('u8', 64)),
  ])),
]);
