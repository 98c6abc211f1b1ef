/**
 * Reporting and removing modules as a guest maps and unmaps them, and libdw errors as exceptions.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DebugInfo } from '../../../engine/debuginfo/debuginfo';
import { build, have, LIBC, PIE_BIAS, tempDir } from './helpers';

const LIBC_BIAS = 0x7ffff7d80000;

describe('modules', { skip: !have('gcc') }, () => {
  const tmp = tempDir();
  let exe = '';
  before(() => {
    exe = build(tmp.dir, 'qsort_crash.c', 'mods', ['-g', '-O0']);
  });
  after(() => tmp.cleanup());

  it('adds modules one at a time and ignores a repeated report', () => {
    const di = new DebugInfo();
    try {
      di.reportModule(exe, PIE_BIAS);
      const chain = di.findSymbols('chain')[0].address;
      assert.equal(di.symbolize(chain)[0].fn, 'chain');
      di.reportModule(LIBC, LIBC_BIAS);
      di.reportModule(LIBC, LIBC_BIAS);
      assert.deepEqual(di.modules().map((m) => [m.path, m.bias]), [[exe, PIE_BIAS], [LIBC, LIBC_BIAS]]);
      assert.equal(di.symbolize(chain)[0].fn, 'chain', 'earlier modules survive begin_add');
      assert.equal(di.findSymbols('qsort')[0].module, LIBC);
      const m = di.modules()[1];
      assert.ok(m.start === LIBC_BIAS && m.end > m.start);
    } finally {
      di.close();
    }
  });

  it('forgets an unmapped module and keeps the others working', () => {
    const di = new DebugInfo();
    try {
      di.reportModule(exe, PIE_BIAS);
      di.reportModule(LIBC, LIBC_BIAS);
      const chain = di.findSymbols('chain')[0].address;
      const qsortR = di.findSymbols('qsort_r')[0].address;
      assert.equal(di.symbolize(chain)[0].fn, 'chain');
      di.removeModule(PIE_BIAS);
      assert.deepEqual(di.symbolize(chain), [{ ip: chain }], 'the memo was dropped with the module');
      assert.equal(di.symbolAt(chain), undefined);
      const frames = di.symbolize(qsortR + 4);
      assert.equal(frames[frames.length - 1].fn, 'qsort_r');
      assert.ok(frames[0].line, 'libc still has its DWARF after the re-report');
      // Mapped again elsewhere (a new process image, or dlopen after dlclose).
      di.reportModule(exe, PIE_BIAS + 0x100000);
      assert.equal(di.symbolize(chain + 0x100000)[0].fn, 'chain');
      // Removal by range, as munmap gives it.
      di.removeModule(LIBC_BIAS + 0x1000, LIBC_BIAS + 0x2000);
      assert.deepEqual(di.modules().map((m) => m.path), [exe]);
    } finally {
      di.close();
    }
  });

  it('throws clear errors for files libdw cannot use and stays usable', () => {
    const di = new DebugInfo();
    try {
      assert.throws(() => di.reportModule('/nonexistent/libfoo.so', 0x10000), /libdwfl: cannot report \/nonexistent\/libfoo\.so at 0x10000: .+/);
      const notElf = path.join(tmp.dir, 'not-elf.so');
      fs.writeFileSync(notElf, 'this is not an ELF file\n');
      assert.throws(() => di.reportModule(notElf, 0x10000), /libdwfl: cannot report .*not-elf\.so.*: .+/);
      di.reportModule(exe, PIE_BIAS);
      assert.throws(() => di.reportModule(LIBC, PIE_BIAS), /cannot report .*libc\.so\.6 at 0x555555554000: it overlaps .*mods/);
      assert.deepEqual(di.modules().map((m) => m.path), [exe]);
      assert.equal(di.symbolize(di.findSymbols('main')[0].address)[0].fn, 'main');
    } finally {
      di.close();
    }
    assert.throws(() => di.reportModule(exe, PIE_BIAS), /after close/);
  });
});
