/**
 * tmem_op (hypercall 38): `tmem_op(uops)`, a `struct tmem_op` carrying cmd and pool_id. Gone
 * since Xen 4.13; declared with the last layout that had each op. tmem_op has no interface
 * version, so TMEM_CONTROL uses the 4.1–4.5 `ctrl` payload (Valgrind's only tmem case); 4.0's
 * different tmem_op is not declared.
 */

import { HypercallDecl } from './decl';
import { arrayOf, IN, op, SELECT } from './helpers';
import { tmemOp } from '../layouts/tmem';
import { R } from '../layouts/releases';

const gen = (...f: string[]) => IN('pool_id', ...f.map((x) => `u.gen.${x}`));

export const tmemOpDecl: HypercallDecl = {
  nr: 38,
  name: 'tmem_op',
  args: ['uops'],
  // Layouts of the last release that had the `ctrl` member.
  release: R(4, 5),
  shape: { kind: 'envelope', arg: 0, type: tmemOp, header: ['cmd'], cmd: 'cmd' },
  subops: [
    op('control', 0, [IN('u.ctrl.subop'), SELECT('u.ctrl.subop', {
      10: ['SAVE_BEGIN', [IN('u.ctrl.cli_id', 'u.ctrl.arg1', 'u.ctrl.buf'), arrayOf('u.ctrl.buf', 1, { field: 'u.ctrl.arg1' }, 'in', { nullOk: true })]],
    })]),
    op('new_pool', 1, [IN('u.creat.uuid', 'u.creat.flags', 'u.creat.arg1')]),
    op('destroy_pool', 2, [IN('pool_id')]),
    op('new_page', 3, [gen('oid', 'index', 'cmfn')]),
    op('put_page', 4, [gen('oid', 'index', 'cmfn')]),
    op('get_page', 5, [gen('oid', 'index', 'cmfn')]),
    op('flush_page', 6, [gen('oid', 'index')]),
    op('flush_object', 7, [gen('oid')]),
    op('read', 8, [gen('oid', 'index', 'tmem_offset', 'pfn_offset', 'len', 'cmfn')]),
    op('write', 9, [gen('oid', 'index', 'tmem_offset', 'pfn_offset', 'len', 'cmfn')]),
    op('xchg', 10, [gen('oid', 'index', 'tmem_offset', 'pfn_offset', 'len', 'cmfn')]),
    op('auth', 101, [IN('u.creat.uuid', 'u.creat.flags', 'u.creat.arg1')]),
    op('restore_new', 102, [IN('u.creat.uuid', 'u.creat.flags', 'u.creat.arg1')]),
  ],
};
