/**
 * Source line → addresses (breakpoints) and function entries, checked against objdump's decoded
 * line table and gdb's breakpoints.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DebugInfo } from '../../../engine/debuginfo/debuginfo';
import { build, FIXTURES, have, LIBC, PIE_BIAS, stmtRows, tempDir } from './helpers';

describe('lines', { skip: !have('gcc') || !have('objdump') || !have('gdb') }, () => {
  const tmp = tempDir();
  let o0 = '';
  let o2 = '';
  before(() => {
    o0 = build(tmp.dir, 'qsort_crash.c', 'l0', ['-g', '-O0']);
    o2 = build(tmp.dir, 'qsort_crash.c', 'l2', ['-g', '-O2']);
  });
  after(() => tmp.cleanup());

  function withDi<T>(exe: string, f: (di: DebugInfo) => T): T {
    const di = new DebugInfo();
    try {
      di.reportModule(exe, PIE_BIAS);
      di.reportModule(LIBC, 0x7f0000000000); // other modules are searched too, and must not match
      return f(di);
    } finally {
      di.close();
    }
  }

  for (const [label, pick] of [['-O0', () => o0], ['-O2', () => o2]] as const) {
    it(`gives the is_stmt rows of the requested line at ${label}, as objdump decodes them`, () => {
      const rows = stmtRows(pick(), 'qsort_crash.c');
      withDi(pick(), (di) => {
        for (const line of [13, 18, 24, 29, 34, 45]) {
          const found = di.lineToAddresses('qsort_crash.c', line);
          assert.ok(found.length > 0, `line ${line} has code`);
          assert.ok(found.every((f) => f.line === line));
          const want = [...new Set(rows.filter((r) => r.line === line).map((r) => PIE_BIAS + r.address))].sort((a, b) => a - b);
          assert.deepEqual(found.map((f) => f.address), want, `line ${line}`);
        }
      });
    });
  }

  it('moves a line without code to the next line that has some', () => {
    withDi(o0, (di) => {
      // Line 43 is blank and line 44 is `(void)argv;`: the first code is the call on line 45.
      const found = di.lineToAddresses('qsort_crash.c', 43);
      assert.ok(found.length > 0);
      assert.ok(found.every((f) => f.line === 45));
      assert.deepEqual(found, di.lineToAddresses('qsort_crash.c', 45));
    });
  });

  it('accepts the full path recorded in the line table, not a partial one', () => {
    withDi(o0, (di) => {
      const byBase = di.lineToAddresses('qsort_crash.c', 29);
      assert.deepEqual(di.lineToAddresses(path.join(FIXTURES, 'qsort_crash.c'), 29), byBase);
      assert.deepEqual(di.lineToAddresses('debuginfo/qsort_crash.c', 29), []);
      assert.deepEqual(di.lineToAddresses('nosuchfile.c', 29), []);
      assert.deepEqual(di.lineToAddresses('qsort_crash.c', 100000), []);
    });
  });

  it("places function breakpoints where gdb does at -O0", () => {
    const names = ['cmp', 'sorter', 'chain', 'main'];
    const out = execFileSync('gdb', ['-batch', '-nx', ...names.flatMap((n) => ['-ex', `break ${n}`]), o0], { encoding: 'utf8' });
    const gdbAddrs = [...out.matchAll(/Breakpoint \d+ at 0x([0-9a-f]+)/g)].map((m) => parseInt(m[1], 16));
    assert.equal(gdbAddrs.length, names.length, out);
    withDi(o0, (di) => {
      assert.deepEqual(names.map((n) => di.functionEntries(n)), gdbAddrs.map((a) => [PIE_BIAS + a]));
    });
  });

  it('places function breakpoints inside the function at -O2, and at the symbol without DWARF', () => {
    withDi(o2, (di) => {
      for (const n of ['cmp', 'sorter', 'chain', 'main']) {
        const sym = di.findSymbols(n)[0];
        const entries = di.functionEntries(n);
        assert.ok(entries.length > 0);
        for (const e of entries) assert.ok(e >= sym.address && e < sym.address + sym.size, `${n}: 0x${e.toString(16)}`);
      }
      assert.deepEqual(di.functionEntries('no_such_function'), []);
    });
    const stripped = build(tmp.dir, 'qsort_crash.c', 'nodwarf', ['-g0', '-O2']);
    withDi(stripped, (di) => {
      assert.deepEqual(di.functionEntries('chain'), [di.findSymbols('chain')[0].address]);
    });
  });
});
