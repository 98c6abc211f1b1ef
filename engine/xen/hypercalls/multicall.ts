/**
 * multicall (hypercall 13): `multicall(call_list, nr_calls)`. The entries themselves are decoded
 * and checked recursively by hypercalls/dispatch.ts (each entry's op, the argument slots that op
 * uses, then the op's own declaration); the hypervisor writes every entry's `result`.
 */

import { HypercallDecl } from './decl';

export const multicallDecl: HypercallDecl = {
  nr: 13,
  name: 'multicall',
  args: ['call_list', 'nr_calls'],
  shape: { kind: 'plain' },
  subops: [],
  rules: [],
};
