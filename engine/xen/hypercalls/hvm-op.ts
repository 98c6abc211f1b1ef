/** hvm_op (hypercall 34): `hvm_op(op, arg)`. Ops 2–4, 6, 8, 14 moved to dm_op in 4.9; 12/13 to memory_op in 4.5. */

import { HypercallDecl } from './decl';
import { arrayOf, IN, op, OUT, SELECT } from './helpers';
import * as H from '../layouts/hvm';
import { R } from '../layouts/releases';
import { StructType } from '../layouts/ctypes';

const at = (type: StructType, extra: { since?: number; until?: number } = {}) => ({ root: { arg: 1, type }, ...extra });

export const hvmOpDecl: HypercallDecl = {
  nr: 34,
  name: 'hvm_op',
  args: ['op', 'arg'],
  shape: { kind: 'arg', arg: 0 },
  // Legacy ops are declared with their old layouts; hvm_op carries no interface version, so the
  // newest release that still had them is used.
  release: R(4, 17),
  subops: [
    op('set_param', 0, [IN('domid', 'index', 'value')], at(H.hvmParam)),
    op('get_param', 1, [IN('domid', 'index'), OUT('value')], at(H.hvmParam)),
    op('set_pci_intx_level', 2, [IN('domid', 'domain', 'bus', 'device', 'intx', 'level')], at(H.setPciIntxLevel)),
    op('set_isa_irq_level', 3, [IN('domid', 'isa_irq', 'level')], at(H.setIsaIrqLevel)),
    op('set_pci_link_route', 4, [IN('domid', 'link', 'isa_irq')], at(H.setPciLinkRoute)),
    op('flush_tlbs', 5, []),
    op('track_dirty_vram', 6, [IN('domid', 'first_pfn', 'nr', 'dirty_bitmap'),
      arrayOf('dirty_bitmap', 1, { field: 'nr', div: 8 }, 'out', { nullOk: true })], at(H.trackDirtyVram)),
    op('set_mem_type', 8, [IN('domid', 'hvmmem_type', 'nr', 'first_pfn')], at(H.setMemType)),
    op('pagetable_dying', 9, [IN('domid', 'gpa')], at(H.pagetableDying)),
    op('get_time', 10, [OUT('now')], at(H.getTime)),
    op('set_mem_access', 12, [IN('domid', 'hvmmem_access', 'nr', 'first_pfn')], at(H.setMemAccess)),
    op('get_mem_access', 13, [IN('domid', 'pfn'), OUT('hvmmem_access')], at(H.getMemAccess)),
    op('inject_trap', 14, [IN('domid', 'vcpuid', 'vector', 'type', 'error_code', 'insn_len', 'cr2')], at(H.injectTrap)),
    op('get_mem_type', 15, [IN('domid', 'pfn'), OUT('mem_type')], at(H.getMemType)),
    op('set_evtchn_upcall_vector', 23, [IN('vcpu', 'vector')], at(H.evtchnUpcallVector)),
    op('guest_request_vm_event', 24, []),
    op('altp2m', 25, [IN('version', 'cmd', 'domain'), SELECT('cmd', {
      1: ['get_domain_state', [OUT('u.domain_state.state')]],
      2: ['set_domain_state', [IN('u.domain_state.state')]],
      3: ['vcpu_enable_notify', [IN('u.enable_notify.vcpu_id', 'u.enable_notify.gfn')]],
      4: ['create_p2m', [IN('u.view.hvmmem_default_access'), OUT('u.view.view')]],
      5: ['destroy_p2m', [IN('u.view.view')]],
      6: ['switch_p2m', [IN('u.view.view')]],
      7: ['set_mem_access', [IN('u.mem_access.view', 'u.mem_access.access', 'u.mem_access.gfn')]],
      8: ['change_gfn', [IN('u.change_gfn.view', 'u.change_gfn.old_gfn', 'u.change_gfn.new_gfn')]],
      12: ['get_mem_access', [IN('u.mem_access.view', 'u.mem_access.gfn'), OUT('u.mem_access.access')]],
      13: ['vcpu_disable_notify', [IN('u.disable_notify.vcpu_id')]],
    })], at(H.altp2mOp)),
  ],
};
