/** multicall (hypercall 13) entries and the privcmd hypercall argument block. */

import { arr, f, struct } from './ctypes';

export const multicallEntry = struct('struct multicall_entry', [f('op', 'u64'), f('result', 'u64'), f('args', arr('u64', 6))]);
export const privcmdHypercall = struct('struct privcmd_hypercall', [f('op', 'u64'), f('arg', arr('u64', 5))]);
