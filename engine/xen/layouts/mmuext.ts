/** mmuext_op (hypercall 26): an array of `struct mmuext_op`. */

import { f, h, struct, union } from './ctypes';

export const mmuextOp = struct('struct mmuext_op', [
  f('cmd', 'u32'),
  f('arg1', union('', [f('mfn', 'u64'), f('linear_addr', 'u64')])),
  f('arg2', union('', [f('nr_ents', 'u32'), h('vcpumask', 'u8'), f('src_mfn', 'u64')])),
]);
