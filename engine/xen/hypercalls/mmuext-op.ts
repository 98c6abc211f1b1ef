/** mmuext_op (hypercall 26): `mmuext_op(uops, count, pdone, foreigndom)`; each op selected by its cmd. */

import { HypercallDecl } from './decl';
import { BUF, IN, SELECT } from './helpers';
import { mmuextOp } from '../layouts/mmuext';

const mfn = [IN('arg1.mfn')];
const va = [IN('arg1.linear_addr')];
/** A vcpumask is a guest pointer to one unsigned long of vCPU bits. */
const mask = [IN('arg2.vcpumask'), BUF({ ptr: 'arg2.vcpumask', elem: 8, count: 1, dir: 'in' })];

export const mmuextOpDecl: HypercallDecl = {
  nr: 26,
  name: 'mmuext_op',
  args: ['uops', 'count', 'pdone', 'foreigndom'],
  shape: { kind: 'plain' },
  subops: [],
  rules: [
    BUF({
      ptr: { arg: 0 }, elem: mmuextOp, count: { arg: 1 }, dir: 'none', name: 'uops',
      each: [IN('cmd'), SELECT('cmd', {
        0: ['PIN_L1_TABLE', mfn], 1: ['PIN_L2_TABLE', mfn], 2: ['PIN_L3_TABLE', mfn], 3: ['PIN_L4_TABLE', mfn],
        4: ['UNPIN_TABLE', mfn], 5: ['NEW_BASEPTR', mfn], 6: ['TLB_FLUSH_LOCAL', []], 7: ['INVLPG_LOCAL', va],
        8: ['TLB_FLUSH_MULTI', mask], 9: ['INVLPG_MULTI', [...va, ...mask]], 10: ['TLB_FLUSH_ALL', []], 11: ['INVLPG_ALL', va],
        12: ['FLUSH_CACHE', []], 13: ['SET_LDT', [IN('arg1.linear_addr', 'arg2.nr_ents')]], 15: ['NEW_USER_BASEPTR', mfn],
        16: ['CLEAR_PAGE', mfn], 17: ['COPY_PAGE', [IN('arg1.mfn', 'arg2.src_mfn')]], 18: ['FLUSH_CACHE_GLOBAL', []],
        19: ['MARK_SUPER', mfn], 20: ['UNMARK_SUPER', mfn],
      })],
    }),
    // Xen stores the number of ops done through pdone when it is not NULL.
    BUF({ ptr: { arg: 2 }, elem: 'u32', count: 1, dir: 'out', nullOk: true, name: 'pdone' }),
  ],
};
