/** tmem_op (hypercall 38): transcendent memory, Xen ≤ 4.12 (removed in 4.13). */

import { arr, f, h, struct, union } from './ctypes';
import { R } from './releases';

export const tmemOp = struct('struct tmem_op', [
  f('cmd', 'u32'),
  f('pool_id', 'i32'),
  f('u', union('', [
    f('creat', struct('', [f('uuid', arr('u64', 2)), f('flags', 'u32'), f('arg1', 'u32')])),
    // TMEM_CONTROL's payload until 4.5; 4.6 moved control to XEN_SYSCTL_tmem_op.
    f('ctrl', struct('', [f('subop', 'u32'), f('cli_id', 'u32'), f('arg1', 'u32'), f('arg2', 'u32'), f('oid', arr('u64', 3)), h('buf', 'u8')]), { until: R(4, 5) }),
    f('gen', struct('', [f('oid', arr('u64', 3)), f('index', 'u32'), f('tmem_offset', 'u32'), f('pfn_offset', 'u32'), f('len', 'u32'), f('cmfn', 'u64')])),
  ])),
], { since: R(4, 1), until: R(4, 12) });
