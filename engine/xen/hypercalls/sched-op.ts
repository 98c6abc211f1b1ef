/** sched_op (hypercall 29): `sched_op(cmd, arg)`. */

import { HypercallDecl } from './decl';
import { arrayOf, IN, op } from './helpers';
import * as S from '../layouts/sched';

export const schedOpDecl: HypercallDecl = {
  nr: 29,
  name: 'sched_op',
  args: ['cmd', 'arg'],
  shape: { kind: 'arg', arg: 0 },
  subops: [
    op('yield', 0, []),
    op('block', 1, []),
    op('shutdown', 2, [IN('reason')], { root: { arg: 1, type: S.shutdown } }),
    op('poll', 3, [IN('ports', 'nr_ports', 'timeout'), arrayOf('ports', 'u32', { field: 'nr_ports' }, 'in')], { root: { arg: 1, type: S.poll } }),
    op('remote_shutdown', 4, [IN('domain_id', 'reason')], { root: { arg: 1, type: S.remoteShutdown } }),
    op('shutdown_code', 5, [IN('reason')], { root: { arg: 1, type: S.shutdown } }),
    op('watchdog', 6, [IN('id', 'timeout')], { root: { arg: 1, type: S.watchdog } }),
    op('pin_override', 7, [IN('pcpu')], { root: { arg: 1, type: S.pinOverride } }),
  ],
};
