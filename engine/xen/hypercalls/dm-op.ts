/**
 * dm_op (hypercall 41): `dm_op(domid, nr_bufs, bufs)`. The first buffer holds `struct xen_dm_op`
 * (op + payload); some ops take a second buffer.
 */

import { HypercallDecl, Rule } from './decl';
import { BUF, IN, OUT, SELECT } from './helpers';
import { dmOp, dmOpBuf } from '../layouts/dmop';

const u = (m: string, ...f: string[]) => f.map((x) => `u.${m}.${x}`);
const ins = (m: string, ...f: string[]): Rule => IN(...u(m, ...f));

/** The op table, shared by the hypercall and IOCTL_PRIVCMD_DM_OP. */
export const DM_OP_RULES: Rule[] = [
  IN('op'),
  SELECT('op', {
    1: ['create_ioreq_server', [ins('create_ioreq_server', 'handle_bufioreq'), OUT(...u('create_ioreq_server', 'id'))]],
    2: ['get_ioreq_server_info', [ins('get_ioreq_server_info', 'id', 'flags'), OUT(...u('get_ioreq_server_info', 'bufioreq_port', 'ioreq_gfn', 'bufioreq_gfn'))]],
    3: ['map_io_range_to_ioreq_server', [ins('map_io_range_to_ioreq_server', 'id', 'type', 'start', 'end')]],
    4: ['unmap_io_range_from_ioreq_server', [ins('unmap_io_range_from_ioreq_server', 'id', 'type', 'start', 'end')]],
    5: ['set_ioreq_server_state', [ins('set_ioreq_server_state', 'id', 'enabled')]],
    6: ['destroy_ioreq_server', [ins('destroy_ioreq_server', 'id')]],
    7: ['track_dirty_vram', [ins('track_dirty_vram', 'nr', 'first_pfn')]],
    8: ['set_pci_intx_level', [ins('set_pci_intx_level', 'domain', 'bus', 'device', 'intx', 'level')]],
    9: ['set_isa_irq_level', [ins('set_isa_irq_level', 'isa_irq', 'level')]],
    10: ['set_pci_link_route', [ins('set_pci_link_route', 'link', 'isa_irq')]],
    11: ['modified_memory', [ins('modified_memory', 'nr_extents')]],
    12: ['set_mem_type', [ins('set_mem_type', 'nr', 'mem_type', 'first_pfn')]],
    13: ['inject_event', [ins('inject_event', 'vcpuid', 'vector', 'type', 'insn_len', 'error_code', 'cr2')]],
    14: ['inject_msi', [ins('inject_msi', 'data', 'addr')]],
    15: ['map_mem_type_to_ioreq_server', [ins('map_mem_type_to_ioreq_server', 'id', 'type', 'flags', 'opaque')]],
    16: ['remote_shutdown', [ins('remote_shutdown', 'reason')]],
    17: ['relocate_memory', [ins('relocate_memory', 'size', 'src_gfn', 'dst_gfn')]],
    18: ['pin_memory_cacheattr', [ins('pin_memory_cacheattr', 'start', 'end', 'type')]],
    19: ['set_irq_level', [ins('set_irq_level', 'irq', 'level')]],
    20: ['nr_vcpus', [OUT(...u('nr_vcpus', 'vcpus'))]],
  }),
];

export const dmOpDecl: HypercallDecl = {
  nr: 41,
  name: 'dm_op',
  args: ['domid', 'nr_bufs', 'bufs'],
  shape: { kind: 'plain' },
  subops: [],
  rules: [
    BUF({ ptr: { arg: 2 }, elem: dmOpBuf, count: { arg: 1 }, dir: 'in', name: 'bufs' }),
    { whenArg: 1, nonzero: true, then: [BUF({ ptr: { argPtr: 2, offset: 0 }, elem: dmOp, count: 1, dir: 'none', name: 'bufs[0].h', each: DM_OP_RULES })] },
  ],
};
