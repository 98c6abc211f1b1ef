/**
 * Suppressions: mangled-name patterns checked against the names Valgrind itself generates, the
 * `.supp` parser, and Valgrind's matching rules.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wildcardMatch } from '../../../engine/errors/glob';
import type { SuppressionFrame, SuppressionSyntaxError } from '../../../engine/errors/suppressions';
import { funPattern, isDemangledCxx } from '../../../server/cxx-names';
import { pathGlob } from '../../../server/glob';
import type { ErrorRecord } from '../../../server/protocol';
import { parseSuppressionFile, renderSuppression, suppresses, suppressionFor } from '../../../server/suppressions';
import { parseValgrindXml } from '../../../server/valgrind-xml';
import { makeWorkspace, runValgrind, type Workspace } from './support/fixture';

describe('C++ suppression patterns', () => {
  let ws: Workspace;
  let records: ErrorRecord[];
  before(() => {
    ws = makeWorkspace('unigrind-cxx-');
    records = parseValgrindXml(runValgrind(ws.programs.widget as string, path.join(ws.dir, 'w.xml'), ['--gen-suppressions=all'])).errors;
  });
  after(() => ws.remove());

  it('match the mangled names Valgrind generates for the same frames', () => {
    let pairs = 0;
    for (const rec of records) {
      const mangled = rec.suppression?.frames ?? [];
      assert.equal(mangled.length, rec.stack.length);
      rec.stack.forEach((frame, i) => {
        const generated = (mangled[i] as string).replace(/^fun:/, '');
        const pattern = funPattern(frame.fn as string);
        assert.ok(wildcardMatch(pattern, generated), `${frame.fn} → ${pattern} should match ${generated}`);
        pairs++;
      });
    }
    assert.ok(pairs >= 7, `only ${pairs} frames compared`);
  });

  it('do not match other functions', () => {
    assert.equal(wildcardMatch(funPattern('gadgets::Widget::grow(unsigned long)'), '_ZN7gadgets6Widget5shrinkEm'), false);
    assert.equal(wildcardMatch(funPattern('operator new[](unsigned long)'), '_Znwm'), false);
    assert.equal(wildcardMatch(funPattern('gadgets::Widget::Widget(unsigned long)'), '_ZN7gadgets6WidgetD1Ev'), false);
    assert.equal(wildcardMatch(funPattern('gadgets::Widget::~Widget()'), '_ZN7gadgets6WidgetD2Ev'), true);
  });

  it('leave C names and Valgrind placeholders alone', () => {
    for (const name of ['main', 'malloc', '(below main)', '__libc_start_main', '???']) {
      assert.equal(isDemangledCxx(name), false, name);
      assert.equal(funPattern(name), name);
    }
    assert.equal(funPattern('int add<int>(int, int)'), '_Z3add*');
    assert.equal(funPattern('std::vector<int, std::allocator<int> >::push_back(int const&)'), '_Z*St*6vector*9push_back*');
    assert.equal(funPattern('(anonymous namespace)::helper()'), '_Z*12_GLOBAL__N_1*6helper*');
  });
});

describe('.supp files', () => {
  const FILE = [
    '# known, intentional errors in the example program',
    '{',
    '   example-overlap',
    '   Memcheck:Overlap',
    '   fun:strcpy',
    '   fun:main',
    '}',
    '{',
    '   example-uninit-write-buffer',
    '   Memcheck:Param',
    '   write(buf)',
    '   fun:write',
    '   ...',
    '   fun:main',
    '}',
    '',
    '{',
    '   example-definite-leaks',
    '   Memcheck:Leak',
    '   match-leak-kinds: definite',
    '   fun:malloc',
    '   ...',
    '   fun:main',
    '}',
    '{',
    '   broken entry without a kind',
    '}',
  ].join('\n');

  const rec = (kind: string, what: string, fns: string[], extra: Partial<ErrorRecord> = {}): ErrorRecord => ({
    unique: 0,
    kind,
    what,
    stack: fns.map((fn) => ({ fn })),
    aux: [],
    ...extra,
  });

  /** A parsed frame line as it was written. */
  const line = (f: SuppressionFrame): string => (f.type === '...' ? '...' : `${f.type}:${f.pattern}`);

  it('parse names, their lines, kinds, extra lines and frames; skip malformed entries', () => {
    const problems: SuppressionSyntaxError[] = [];
    const entries = parseSuppressionFile(FILE, 'test.supp', (e) => problems.push(e));
    assert.deepEqual(
      entries.map((e) => [e.name, e.line, e.kind, e.param, e.leakKinds && [...e.leakKinds], e.frames.map(line)]),
      [
        ['example-overlap', 3, 'Overlap', undefined, undefined, ['fun:strcpy', 'fun:main']],
        ['example-uninit-write-buffer', 9, 'Param', 'write(buf)', undefined, ['fun:write', '...', 'fun:main']],
        ['example-definite-leaks', 18, 'Leak', undefined, ['definite'], ['fun:malloc', '...', 'fun:main']],
      ],
    );
    // Line 27, named as Valgrind names it: one short, the file having no final newline.
    assert.deepEqual(problems.map((p) => [p.line, p.reason]), [[26, "malformed 'tool1,tool2,...:supp' line"]]);
    // The entries after a malformed one are kept too.
    const later = parseSuppressionFile(`{\n bad\n Memcheck:NoSuchKind\n fun:f\n}\n${FILE}`, 'test.supp');
    assert.deepEqual(later.map((e) => e.name), ['example-overlap', 'example-uninit-write-buffer', 'example-definite-leaks']);
  });

  it('match like Valgrind: kind, extra line, frame prefix with ...', () => {
    const [overlap, param, leak] = parseSuppressionFile(FILE, 'test.supp') as [never, never, never];
    assert.equal(suppresses(overlap, rec('Overlap', 'Source and destination overlap in strcpy(0x1, 0x2)', ['strcpy', 'main', '(below main)'])), true);
    assert.equal(suppresses(overlap, rec('Overlap', 'Source and destination overlap in strcpy(0x1, 0x2)', ['strcpy', 'helper', 'main'])), false);
    const write = (fns: string[]): ErrorRecord => rec('SyscallParam', 'Syscall param write(buf) points to uninitialised byte(s)', fns);
    assert.equal(suppresses(param, write(['write', 'main'])), true);
    assert.equal(suppresses(param, write(['write', 'a', 'b', 'main'])), true);
    assert.equal(suppresses(param, write(['write', 'a', 'b'])), false);
    assert.equal(suppresses(param, rec('SyscallParam', 'Syscall param read(buf) points to uninitialised byte(s)', ['write', 'main'])), false);
    const lost = (kind: string): ErrorRecord => rec(kind, '16 bytes in 1 blocks are lost', ['malloc', 'make', 'main']);
    assert.equal(suppresses(leak, lost('Leak_DefinitelyLost')), true);
    assert.equal(suppresses(leak, lost('Leak_PossiblyLost')), false);
    assert.equal(suppresses(leak, rec('InvalidRead', 'Invalid read of size 4', ['malloc', 'main'])), false);
  });

  it('compare access sizes and accept Valgrind kind aliases', () => {
    const [addr4, value0] = parseSuppressionFile('{\n a\n Memcheck:Addr4\n fun:f\n}\n{\n b\n Memcheck:Value0\n obj:/lib/*.so*\n}\n', 'test.supp') as [never, never];
    assert.equal(suppresses(addr4, rec('InvalidRead', 'Invalid read of size 4', ['f'])), true);
    assert.equal(suppresses(addr4, rec('InvalidWrite', 'Invalid write of size 4', ['f'])), true);
    assert.equal(suppresses(addr4, rec('InvalidRead', 'Invalid read of size 8', ['f'])), false);
    const cond = rec('UninitCondition', 'Conditional jump or move depends on uninitialised value(s)', [], { stack: [{ obj: '/lib/libz.so.1' }] });
    assert.equal(suppresses(value0, cond), true);
  });

  it('derive entries like --gen-suppressions, and read back what they render', () => {
    const spec = suppressionFor(rec('InvalidWrite', 'Invalid write of size 1', ['overflow', 'main'], { stack: [{ fn: 'overflow' }, { obj: '/lib/x.so' }, {}] }))!;
    assert.deepEqual(spec, { kind: 'Memcheck:Addr1', extra: [], frames: ['fun:overflow', 'obj:/lib/x.so', 'obj:*'] });
    const text = renderSuppression('overflow-InvalidWrite', spec);
    assert.equal(text, '{\n   overflow-InvalidWrite\n   Memcheck:Addr1\n   fun:overflow\n   obj:/lib/x.so\n   obj:*\n}\n');
    const [back] = parseSuppressionFile(text, 'test.supp');
    assert.deepEqual([back!.name, back!.kind, back!.frames.map(line)], ['overflow-InvalidWrite', 'Addr1', spec.frames]);
    assert.equal(suppressionFor(rec('FatalSignal', 'Process terminating', ['main'])), undefined);
    assert.deepEqual(suppressionFor(rec('Leak_StillReachable', '7 bytes', ['malloc', 'main'])), { kind: 'Memcheck:Leak', extra: ['match-leak-kinds: reachable'], frames: ['fun:malloc', 'fun:main'] });
  });
});

describe('setting globs', () => {
  it('treat ** as any folders, * within one', () => {
    assert.match('a.xml', pathGlob('**/*.xml'));
    assert.match('out/run/a.xml', pathGlob('**/*.xml'));
    assert.doesNotMatch('a.xml.bak', pathGlob('**/*.xml'));
    assert.match('reports/a.xml', pathGlob('reports/*.xml'));
    assert.doesNotMatch('reports/x/a.xml', pathGlob('reports/*.xml'));
    assert.match('node_modules/', pathGlob('**/{node_modules,.git}/**'));
    assert.match('sub/.git/HEAD', pathGlob('**/{node_modules,.git}/**'));
    assert.doesNotMatch('gitx/a', pathGlob('**/{node_modules,.git}/**'));
    assert.match('Leak_PossiblyLost', pathGlob('Leak_*'));
  });
});
