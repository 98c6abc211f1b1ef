/** The coverage table is computed from the declarations. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverage, formatCoverage } from '../../../engine/xen/coverage';

test('coverage: hypercalls, sub-ops, versions, and Valgrind\'s figures beside them', () => {
  const c = coverage();
  assert.equal(c.hypercalls, 17);
  assert.ok(c.subops >= 250, `sub-ops ${c.subops}`);
  assert.equal(c.versions.sysctl, '0x07–0x15');
  assert.equal(c.versions.domctl, '0x07–0x15');
  assert.equal(c.valgrind.subops, 119);
  // Everything Valgrind wraps is declared.
  assert.deepEqual(c.valgrind.missing, []);
  const row = (h: string, s: string) => c.rows.find((r) => r.hypercall === h && r.subop === s);
  assert.equal(row('domctl', 'getvcpuinfo')?.versions, '0x07–0x15');
  assert.equal(row('domctl', 'get_paging_mempool_size')?.versions, '0x15');
  assert.equal(row('sysctl', 'topologyinfo')?.versions, '0x08–0x0b');
  assert.equal(row('sysctl', 'cputopoinfo')?.versions, '0x0c–0x15');
  assert.equal(row('sysctl', 'cpupool_op')?.nested, 7);
  assert.equal(row('mmuext_op', 'PIN_L4_TABLE')?.inValgrind, true);
  assert.match(formatCoverage(c), /^Xen hypercall coverage: 17 hypercalls/);
});
