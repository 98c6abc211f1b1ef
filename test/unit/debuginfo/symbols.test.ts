/**
 * Symbol tables: lookups by address and by name, IFUNCs and versions, against nm; data symbols
 * and section kinds as Valgrind's address descriptions use them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { DebugInfo } from '../../../engine/debuginfo/debuginfo';
import { STT_FUNC, STT_GNU_IFUNC } from '../../../engine/debuginfo/libdw';
import { ElfSymbol, preferSymbol, SymbolTable } from '../../../engine/debuginfo/symbols';
import { SectionLayout } from '../../../engine/debuginfo/sections';
import { build, have, LIBC, PIE_BIAS, tempDir } from './helpers';

const LIBC_BIAS = 0x7ffff7d80000;

function sym(name: string, version = '', address = 0x1000, size = 16): ElfSymbol {
  return { name, version, address, size, type: STT_FUNC, bind: 1 };
}

describe('SectionLayout', () => {
  const layout = new SectionLayout([
    { name: '.text', addr: 0x1000, size: 0x100 }, { name: '.rodata', addr: 0x2000, size: 0x40 },
    { name: '.data', addr: 0x3000, size: 0x20 }, { name: '.bss', addr: 0x3040, size: 0x40 }, { name: '.got', addr: 0x2f00, size: 0x10 },
  ], 0x10000);
  const obj = (name: string, address: number, size = 8, type = 1, bind = 1): ElfSymbol => ({ name, version: '', address, size, type, bind });

  it('classifies addresses in Valgrind\'s order, at the load address', () => {
    assert.equal(layout.kindAt(0x11000), 'Text');
    assert.equal(layout.kindAt(0x13010), 'Data');
    assert.equal(layout.kindAt(0x1307f), 'BSS');
    assert.equal(layout.kindAt(0x12f08), 'GOT');
    assert.equal(layout.kindAt(0x12000), undefined, '.rodata has no kind');
    assert.equal(layout.kindAt(0x1000), undefined, 'not biased');
  });

  it('keeps as data symbols the sized objects and functions of the data sections', () => {
    assert.equal(layout.isDataSymbol(obj('table', 0x13000)), true);
    assert.equal(layout.isDataSymbol(obj('literal', 0x12000)), true, '.rodata objects are data symbols');
    assert.equal(layout.isDataSymbol(obj('fn', 0x11000, 8, 2)), false, 'text');
    assert.equal(layout.isDataSymbol(obj('empty', 0x13000, 0)), false, 'no size');
    assert.equal(layout.isDataSymbol(obj('label', 0x13000, 8, 0)), false, 'no type');
    assert.equal(layout.isDataSymbol(obj('unique', 0x13000, 8, 1, 10)), false, 'STB_GNU_UNIQUE');
    assert.equal(layout.isDataSymbol(obj('got', 0x12f00)), false, 'in no data section');
  });
});

describe('SymbolTable', () => {
  it("prefers aliases as Valgrind does: shorter, then versioned, then alphabetical", () => {
    assert.equal(preferSymbol(sym('bcmp'), sym('memcmp')), true);
    assert.equal(preferSymbol(sym('memcmp'), sym('bcmp')), false);
    assert.equal(preferSymbol(sym('foo', '@@V_1'), sym('foo')), true);
    assert.equal(preferSymbol(sym('abc'), sym('abd')), true);
    const t = new SymbolTable([sym('memcmp'), sym('bcmp'), sym('__memcmp_sse2', '', 0x2000, 8)]);
    assert.equal(t.lookup(0x1008)?.name, 'bcmp');
    assert.equal(t.named('memcmp').length, 1, 'name lookups keep every alias');
  });

  it('finds the innermost of nested symbols and nothing in gaps', () => {
    const t = new SymbolTable([
      sym('outer', '', 0x1000, 0x100),
      sym('inner', '', 0x1040, 0x10),
      sym('next', '', 0x1200, 0x10),
      { ...sym('data', '', 0x1300, 0x100), type: 1 },
    ]);
    assert.equal(t.lookup(0x1000)?.name, 'outer');
    assert.equal(t.lookup(0x1045)?.name, 'inner');
    assert.equal(t.lookup(0x1050)?.name, 'outer', 'after the nested symbol, the outer one again');
    assert.equal(t.lookup(0x1100), undefined, 'gap');
    assert.equal(t.lookup(0x1310), undefined, 'objects do not name code');
    assert.equal(t.lookup(0xfff), undefined);
  });
});

describe('DebugInfo symbols', { skip: !have('gcc') || !have('nm') }, () => {
  const tmp = tempDir();
  let exe = '';
  let di: DebugInfo;
  before(() => {
    exe = build(tmp.dir, 'qsort_crash.c', 'syms', ['-g', '-O2']);
    di = new DebugInfo();
    di.reportModule(exe, PIE_BIAS);
    di.reportModule(LIBC, LIBC_BIAS);
  });
  after(() => {
    di.close();
    tmp.cleanup();
  });

  it('symbolAt covers [start, start + size) of the program functions', () => {
    const nm = execFileSync('nm', ['-S', exe], { encoding: 'utf8' });
    const m = /^([0-9a-f]+) ([0-9a-f]+) T chain$/m.exec(nm);
    assert.ok(m, 'nm lists chain');
    const start = PIE_BIAS + parseInt(m[1], 16);
    const size = parseInt(m[2], 16);
    assert.deepEqual(di.symbolAt(start), { name: 'chain', start, size, module: exe });
    assert.equal(di.symbolAt(start + size - 1)?.name, 'chain');
    assert.notEqual(di.symbolAt(start + size)?.name, 'chain');
    assert.equal(di.symbolAt(0x1000), undefined, 'outside every module');
  });

  it('finds every exported libc function at its nm -D address', () => {
    const nm = execFileSync('nm', ['-D', '--defined-only', LIBC], { encoding: 'utf8' });
    let checked = 0;
    for (const line of nm.split('\n')) {
      const m = /^([0-9a-f]+) ([TWi]) ([^@\s]+)(@@?\S+)?$/.exec(line);
      if (!m || checked > 400) continue;
      const address = LIBC_BIAS + parseInt(m[1], 16);
      const found = di.findSymbols(m[3]);
      assert.ok(found.some((s) => s.address === address && s.module === LIBC), `${m[3]} at 0x${address.toString(16)}`);
      if (m[2] === 'i') assert.ok(found.some((s) => s.address === address && s.type === STT_GNU_IFUNC), `${m[3]} is an IFUNC`);
      checked++;
    }
    assert.ok(checked > 100);
  });

  it('reports IFUNC resolvers and their implementations for string functions', () => {
    const strlen = di.findSymbols('strlen');
    assert.ok(strlen.some((s) => s.type === STT_GNU_IFUNC), 'strlen is an IFUNC in glibc');
    const impls = di.moduleSymbols(LIBC).filter((s) => s.name.startsWith('__strlen_') && s.type === STT_FUNC);
    assert.ok(impls.some((s) => s.name === '__strlen_avx2'), 'the implementations the resolver picks from are listed');
    assert.ok(di.moduleSymbols(LIBC).some((s) => s.type === 1), 'objects are listed too');
  });

  it('finds versioned definitions under their plain name', () => {
    const found = di.findSymbols('__libc_start_main');
    assert.ok(found.length > 0);
    assert.ok(found.every((s) => s.module === LIBC));
    assert.ok(found.some((s) => s.version.includes('GLIBC_')), JSON.stringify(found));
    assert.deepEqual(di.findSymbols('no_such_function_anywhere'), []);
  });

  it('names data symbols as Valgrind does: objects in .data/.bss/.rodata, aliases merged, offset inside', () => {
    const nm = execFileSync('nm', ['-S', exe], { encoding: 'utf8' });
    const m = /^([0-9a-f]+) ([0-9a-f]+) [bB] sink$/m.exec(nm);
    assert.ok(m, 'nm lists sink in .bss');
    const sink = PIE_BIAS + parseInt(m[1], 16);
    assert.deepEqual(di.dataSymbolAt(sink + 2), { name: 'sink', offset: 2 });
    assert.equal(di.dataSymbolAt(sink + parseInt(m[2], 16)), undefined, 'past its end');
    const chain = di.findSymbols('chain')[0];
    assert.equal(di.dataSymbolAt(chain.address), undefined, 'functions are not data symbols');
    // environ, _environ and __environ share one word of libc's .bss: the shortest name wins.
    const environ = di.moduleSymbols(LIBC).find((s) => s.name === '__environ');
    assert.ok(environ, '__environ is in libc\'s symbol table');
    assert.deepEqual(di.dataSymbolAt(environ.address + 3), { name: 'environ', offset: 3 });
  });

  it('tells the section kind of an address: Text, Data, BSS, or none for .rodata', () => {
    const main = di.findSymbols('main')[0];
    assert.deepEqual(di.sectionAt(main.address), { kind: 'Text', obj: exe });
    const environ = di.moduleSymbols(LIBC).find((s) => s.name === '__environ');
    assert.deepEqual(di.sectionAt(environ!.address), { kind: 'BSS', obj: LIBC });
    const stdout = di.moduleSymbols(LIBC).find((s) => s.name === '_IO_2_1_stdout_');
    assert.deepEqual(di.sectionAt(stdout!.address), { kind: 'Data', obj: LIBC });
    const rodata = di.moduleSymbols(exe).find((s) => s.name === '_IO_stdin_used');
    assert.ok(rodata, '_IO_stdin_used is in .rodata');
    assert.equal(di.sectionAt(rodata.address), undefined);
    assert.deepEqual(di.dataSymbolAt(rodata.address), { name: '_IO_stdin_used', offset: 0 });
  });

  it('rejects unknown module paths', () => {
    assert.throws(() => di.moduleSymbols('/nonexistent.so'), /no module reported for \/nonexistent\.so/);
  });
});
