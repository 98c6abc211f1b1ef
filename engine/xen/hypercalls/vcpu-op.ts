/** vcpu_op (hypercall 24): `vcpu_op(cmd, vcpuid, arg)`. */

import { HypercallDecl } from './decl';
import { IN, op, OUT } from './helpers';
import * as V from '../layouts/vcpu';
import { StructType } from '../layouts/ctypes';

const at = (type: StructType) => ({ root: { arg: 2, type } });

export const vcpuOpDecl: HypercallDecl = {
  nr: 24,
  name: 'vcpu_op',
  args: ['cmd', 'vcpuid', 'arg'],
  shape: { kind: 'arg', arg: 0 },
  subops: [
    op('initialise', 0, [IN('')], at(V.guestContext)),
    op('up', 1, []),
    op('down', 2, []),
    op('is_up', 3, []),
    op('get_runstate_info', 4, [OUT('')], at(V.runstateInfo)),
    op('register_runstate_memory_area', 5, [IN('addr')], at(V.registerMemoryArea)),
    op('set_periodic_timer', 6, [IN('period_ns')], at(V.setPeriodicTimer)),
    op('stop_periodic_timer', 7, []),
    op('set_singleshot_timer', 8, [IN('timeout_abs_ns', 'flags')], at(V.setSingleshotTimer)),
    op('stop_singleshot_timer', 9, []),
    op('register_vcpu_info', 10, [IN('mfn', 'offset')], at(V.registerVcpuInfo)),
    op('send_nmi', 11, []),
    op('get_physid', 12, [OUT('phys_id')], at(V.getPhysid)),
    op('register_vcpu_time_memory_area', 13, [IN('addr')], at(V.registerMemoryArea)),
  ],
};
