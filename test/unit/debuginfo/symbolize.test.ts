/**
 * symbolize() against binutils addr2line -f -i: every instruction of the fixture's functions at
 * -O0 and -O2, placed at a chosen bias and at bias 0, including the always_inline chain; a libc
 * address resolved through /usr/lib/debug; C++ names demangled as Valgrind prints them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DebugInfo } from '../../../engine/debuginfo/debuginfo';
import type { StackFrame } from '../../../engine/debuginfo/frame';
import { addr2line, build, have, instructionAddresses, LIBC, PIE_BIAS, tempDir } from './helpers';

const FUNCTIONS = ['cmp', 'sorter', 'chain', 'main'];

/** ELF symbol names carry gcc's clone suffixes; addr2line prints the DWARF name without them. */
const base = (fn: string | undefined): string | undefined => fn?.replace(/\.(part|constprop|isra|cold)\.\d+/g, '');

function compareWithAddr2line(di: DebugInfo, exe: string, bias: number): number {
  const addrs = instructionAddresses(exe, FUNCTIONS);
  assert.ok(addrs.length > 20, 'objdump found the fixture functions');
  const oracle = addr2line(exe, addrs);
  let inlinedSeen = 0;
  for (const a of addrs) {
    const want = oracle.get(a);
    assert.ok(want, `addr2line answered for 0x${a.toString(16)}`);
    const got: StackFrame[] = di.symbolize(bias + a);
    const where = `at 0x${a.toString(16)}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`;
    assert.equal(got.length, want.length, `inline depth ${where}`);
    for (let i = 0; i < want.length; i++) {
      assert.equal(got[i].ip, bias + a);
      assert.equal(got[i].obj, exe);
      assert.equal(base(got[i].fn), want[i].fn, `fn ${where}`);
      assert.equal(got[i].file, want[i].file, `file ${where}`);
      assert.equal(got[i].line, want[i].line, `line ${where}`);
      assert.equal(got[i].inlined === true, i < want.length - 1, `inlined flag ${where}`);
    }
    if (want.length > 2) inlinedSeen++;
  }
  return inlinedSeen;
}

describe('symbolize', { skip: !have('gcc') || !have('addr2line') || !have('objdump') }, () => {
  const tmp = tempDir();
  let o0 = '';
  let o2 = '';
  before(() => {
    o0 = build(tmp.dir, 'qsort_crash.c', 'o0', ['-g', '-O0']);
    o2 = build(tmp.dir, 'qsort_crash.c', 'o2', ['-g', '-O2']);
  });
  after(() => tmp.cleanup());

  for (const [label, pick] of [['-O0', () => o0], ['-O2', () => o2]] as const) {
    for (const bias of [PIE_BIAS, 0]) {
      it(`matches addr2line -f -i for every instruction at ${label}, bias 0x${bias.toString(16)}`, () => {
        const di = new DebugInfo();
        try {
          di.reportModule(pick(), bias);
          const inlined = compareWithAddr2line(di, pick(), bias);
          assert.ok(inlined > 0, 'the inl_outer -> inl_inner chain was exercised');
        } finally {
          di.close();
        }
      });
    }
  }

  it('matches addr2line -f -i for a non-PIE (ET_EXEC) program at bias 0', () => {
    const exe = build(tmp.dir, 'qsort_crash.c', 'nopie', ['-g', '-O2', '-no-pie']);
    const di = new DebugInfo();
    try {
      di.reportModule(exe, 0);
      assert.ok(di.modules()[0].start >= 0x400000, 'linked at its fixed address');
      assert.ok(compareWithAddr2line(di, exe, 0) > 0);
    } finally {
      di.close();
    }
  });

  it('expands the always_inline chain with call-site lines, innermost first', () => {
    const di = new DebugInfo();
    try {
      di.reportModule(o2, PIE_BIAS);
      // The NULL store is in inl_inner; find its address through the line table.
      const [store] = di.lineToAddresses('qsort_crash.c', 13);
      assert.ok(store, 'line 13 has code');
      const frames = di.symbolize(store.address);
      assert.deepEqual(frames.map((f) => [f.fn, f.file, f.line, f.inlined === true]), [
        ['inl_inner', 'qsort_crash.c', 13, true],
        ['inl_outer', 'qsort_crash.c', 18, true],
        ['cmp', 'qsort_crash.c', 24, false],
      ]);
      assert.ok(frames.every((f) => f.ip === store.address), 'inlined frames share the ip, as in Valgrind');
      assert.equal(di.symbolize(store.address), frames, 'memoized by pc');
    } finally {
      di.close();
    }
  });

  it('resolves a libc address with file:line from /usr/lib/debug', () => {
    const di = new DebugInfo();
    try {
      const libcBias = 0x7f0000000000;
      di.reportModule(LIBC, libcBias);
      const dbg = di.debugFile(LIBC);
      assert.ok(dbg?.startsWith('/usr/lib/debug/'), `separate debug file found: ${dbg}`);
      const [qsortR] = di.findSymbols('qsort_r');
      assert.ok(qsortR, 'qsort_r is defined in libc');
      const offsets = [0, 4, 16, 0x40, Math.floor(qsortR.size / 2), qsortR.size - 1];
      const oracle = addr2line(LIBC, offsets.map((o) => qsortR.address - libcBias + o));
      for (const o of offsets) {
        const got = di.symbolize(qsortR.address + o);
        const want = oracle.get(qsortR.address - libcBias + o) ?? [];
        assert.equal(got.length, want.length, `inline depth at qsort_r+${o}`);
        assert.equal(got[got.length - 1].fn, 'qsort_r');
        for (let i = 0; i < want.length; i++) {
          assert.equal(got[i].file, want[i].file, `file at qsort_r+${o} level ${i}`);
          assert.equal(got[i].line, want[i].line, `line at qsort_r+${o} level ${i}`);
          if (i < want.length - 1) assert.equal(got[i].fn, want[i].fn, 'inlined names come from DWARF');
        }
        assert.ok(got[0].file && got[0].line, 'libc frames have file:line');
        assert.equal(got[0].obj, LIBC);
      }
    } finally {
      di.close();
    }
  });

  it('names libc functions by their .symtab spelling, default version included, as Valgrind prints them', () => {
    const di = new DebugInfo();
    try {
      di.reportModule(LIBC, 0x7f0000000000);
      // _IO_file_overflow@@GLIBC_2.2.5 shares its address with _IO_new_file_overflow and
      // __GI__IO_file_overflow; the shortest name without its version wins, printed with it.
      for (const [name, want] of [['_IO_file_overflow', '_IO_file_overflow@@GLIBC_2.2.5'], ['__libc_start_main', '__libc_start_main@@GLIBC_2.34'], ['qsort_r', 'qsort_r']]) {
        const [s] = di.findSymbols(name).filter((f) => f.version === '' || f.version.startsWith('@@'));
        assert.ok(s, `${name} is defined in libc`);
        const frames = di.symbolize(s.address);
        assert.equal(frames[frames.length - 1].fn, want);
        assert.equal(di.symbolAt(s.address)?.name, name, 'symbolAt gives the bare name');
      }
    } finally {
      di.close();
    }
  });

  it('returns a bare frame for an address outside every module', () => {
    const di = new DebugInfo();
    try {
      di.reportModule(o0, PIE_BIAS);
      assert.deepEqual(di.symbolize(0x1234), [{ ip: 0x1234 }]);
    } finally {
      di.close();
    }
  });
});

describe('C++ names', { skip: !have('g++') }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('demangles physical frames like Valgrind and keeps inlined names unqualified', () => {
    const exe = build(tmp.dir, 'cxx_names.cc', 'cxx', ['-g', '-O2']);
    const di = new DebugInfo();
    try {
      di.reportModule(exe, PIE_BIAS);
      const [store] = di.findSymbols('_ZN2ns3Box5storeEii');
      assert.ok(store, 'the mangled symbol is found by its linkage name');
      assert.equal(di.symbolize(store.address)[0].fn, 'ns::Box::store(int, int)');
      assert.equal(di.symbolAt(store.address)?.name, '_ZN2ns3Box5storeEii', 'symbolAt keeps the linkage name');
      // Valgrind 3.19 prints the inlined member as "put", the physical frame demangled.
      const put = di.lineToAddresses('cxx_names.cc', 9);
      assert.ok(put.length > 0);
      const frames = di.symbolize(put[0].address);
      assert.deepEqual(frames.map((f) => f.fn), ['put', 'ns::Box::store(int, int)']);
    } finally {
      di.close();
    }
  });

  it("abbreviates std::basic_ostream<char> as std::ostream, as Valgrind's demangler does", () => {
    const libstdcxx = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';
    const di = new DebugInfo();
    try {
      di.reportModule(libstdcxx, 0x7f0000000000);
      const [op] = di.findSymbols('_ZNSolsEi');
      assert.ok(op, 'operator<<(int) is exported by libstdc++');
      assert.equal(di.symbolize(op.address + 1)[0].fn, 'std::ostream::operator<<(int)');
    } finally {
      di.close();
    }
  });
});
