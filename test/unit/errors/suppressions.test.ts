/**
 * Suppression files: parsing (with Valgrind 3.19's error messages and line numbers), matching
 * (kinds, extra lines, fun:/obj:/src: wildcards, `...`, mangled names, below-main renaming) and
 * generation.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ErrorFrame } from '../../../engine/errors/error-record';
import * as R from '../../../engine/errors/records';
import {
  framesMatch, generateSuppression, generateSuppressionParts, parseSuppressions, suppressionMatches,
  SuppressionSyntaxError,
} from '../../../engine/errors/suppressions';
import { loadDefaultSuppressions } from '../../../engine/errors/default-suppressions';

const f = (fn: string | undefined, obj?: string, extra: Partial<ErrorFrame> = {}): ErrorFrame => ({
  ip: 0x1000 + (fn?.length ?? 0), ...(fn !== undefined ? { fn } : {}), ...(obj !== undefined ? { obj } : {}), ...extra,
});

function syntaxError(text: string): SuppressionSyntaxError {
  try {
    parseSuppressions(text, 'bad.supp');
  } catch (e) {
    if (e instanceof SuppressionSyntaxError) return e;
    throw e;
  }
  throw new Error('no syntax error');
}

describe('parseSuppressions', () => {
  it('reads names, kinds, extra lines and frames, with the line of each name', () => {
    const text = [
      '# comment',
      '',
      '{',
      '   first',
      '   Memcheck:Param',
      '   write(buf)',
      '   fun:write',
      '   ...',
      '   obj:/usr/lib/*/libc.so.?',
      '}',
      '   # indented comment',
      '{',
      '  second  ',
      '  Memcheck:Leak',
      '  match-leak-kinds: definite,possible',
      '  fun:malloc',
      '  src:leak.c:17',
      '}',
      '{',
      ' third',
      ' Memcheck:FishyValue',
      ' malloc(size)',
      ' fun:malloc',
      '}',
      '{',
      ' fourth',
      ' Memcheck,Helgrind:Value0',
      ' src:x.c',
      '}',
    ].join('\n') + '\n';
    const s = parseSuppressions(text, 'a.supp');
    assert.equal(s.length, 4);
    assert.deepEqual(
      s.map((x) => [x.name, x.kind, x.line]),
      [['first', 'Param', 4], ['second', 'Leak', 13], ['third', 'FishyValue', 20], ['fourth', 'Cond', 26]],
    );
    assert.equal(s[0].param, 'write(buf)');
    assert.deepEqual(s[0].frames, [
      { type: 'fun', pattern: 'write' }, { type: '...' }, { type: 'obj', pattern: '/usr/lib/*/libc.so.?' },
    ]);
    assert.deepEqual([...(s[1].leakKinds ?? [])].sort(), ['definite', 'possible']);
    assert.deepEqual(s[1].frames[1], { type: 'src', pattern: 'leak.c', line: 17 });
    assert.deepEqual(s[2].fishy, { fn: 'malloc', arg: 'size' });
    assert.deepEqual(s[3].frames, [{ type: 'src', pattern: 'x.c' }]);
  });

  it('a Leak suppression without match-leak-kinds matches every kind; "all" and "none" work', () => {
    const [a, b, c] = parseSuppressions(
      '{\n a\n Memcheck:Leak\n fun:malloc\n}\n{\n b\n Memcheck:Leak\n match-leak-kinds: all\n fun:malloc\n}\n'
      + '{\n c\n Memcheck:Leak\n match-leak-kinds: none\n fun:malloc\n}\n', 'l.supp');
    assert.equal(a.leakKinds?.size, 4);
    assert.equal(b.leakKinds?.size, 4);
    assert.equal(c.leakKinds?.size, 0);
  });

  it('skips suppressions of other tools entirely', () => {
    const s = parseSuppressions('{\n h\n Helgrind:Race\n fun:x\n whatever: goes\n}\n{\n m\n Memcheck:Cond\n fun:y\n}\n', 't.supp');
    assert.deepEqual(s.map((x) => x.name), ['m']);
  });

  it('ignores frame lines beyond --num-callers', () => {
    const [s] = parseSuppressions('{\n n\n Memcheck:Cond\n fun:a\n fun:b\n fun:c\n}\n{\n m\n Memcheck:Cond\n fun:z\n}\n', 'n.supp', { numCallers: 2 });
    assert.deepEqual(s.frames.map((x) => (x.type === '...' ? '...' : x.pattern)), ['a', 'b']);
  });

  it('names file:line and Valgrind\'s reason for malformed entries', () => {
    const cases: [string, number, string][] = [
      ['foo\n', 1, "expected '{' or end-of-file"],
      ['{\n}\n', 2, "unexpected '}'"],
      ['{\n name\n', 2, 'unexpected end-of-file (expecting tool:suppr)'],
      ['{\n name\n Memcheck\n', 3, "malformed 'tool1,tool2,...:supp' line"],
      ['{\n name\n Memcheck:Bogus\n fun:x\n}\n', 3, 'unknown tool suppression type'],
      ['{\n name\n core:Thread\n fun:x\n}\n', 3, 'unknown core suppression type'],
      ['{\n name\n Memcheck:Param\n fun:write\n}\n', 4, 'bad or missing extra suppression info'],
      ['{\n name\n Memcheck:Leak\n match-leak-kinds: definite, possible\n fun:x\n}\n', 4, 'bad or missing extra suppression info'],
      ['{\n name\n Memcheck:Leak\n src:a.c\n}\n', 4, 'bad or missing extra suppression info'],
      ['{\n name\n Memcheck:FishyValue\n malloc\n fun:x\n}\n', 4, 'bad or missing extra suppression info'],
      ['{\n name\n Memcheck:Cond\n}\n', 4, 'missing stack trace'],
      ['{\n name\n Memcheck:Cond\n fun:x\n', 4, 'unexpected end-of-file (when reading stack trace)'],
      ['{\n name\n Memcheck:Cond\n fn:x\n}\n', 4, 'location should be "...", or should start with "fun:", "obj:", or "src:"'],
      ['{\n name\n Memcheck:Cond\n ...\n ...\n}\n', 6, 'suppression must contain at least one location line which is not "..."'],
      ['{\n name\n Other:Kind\n fun:x\n', 4, 'unexpected end-of-file (when skipping suppression)'],
      ['\n\n# c\n{\n name\n Memcheck:Addr3\n fun:x\n}\n', 6, 'unknown tool suppression type'],
    ];
    for (const [text, line, reason] of cases) {
      const e = syntaxError(text);
      assert.equal(e.line, line, `line for ${JSON.stringify(text)}`);
      assert.equal(e.reason, reason);
      assert.equal(e.message, `bad.supp:${line}: ${reason}`);
    }
    assert.deepEqual(syntaxError('x\n').valgrindLines(), [
      'FATAL: in suppressions file "bad.supp" near line 1:', "   expected '{' or end-of-file", 'exiting now.',
    ]);
  });

  it('too many frame lines is an error at Valgrind\'s depth limit', () => {
    const frames = Array.from({ length: 501 }, (_, i) => ` fun:f${i}`).join('\n');
    const text = `{\n deep\n Memcheck:Cond\n${frames}\n}\n`;
    // With the default --num-callers=12 reading stops after 12 frames and the rest is skipped.
    assert.equal(parseSuppressions(text, 'd.supp')[0].frames.length, 12);
    // With --num-callers=500 the 501st line is reached.
    assert.throws(() => parseSuppressions(text, 'd.supp', { numCallers: 500 }),
      (e: unknown) => e instanceof SuppressionSyntaxError && e.reason === 'too many callers in stack trace' && e.line === 504);
  });
});

describe('matching', () => {
  const stack = [f('strlen', '/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so'), f('parse', '/prog/a.out', { file: 'p.c', line: 9 }),
    f('run', '/prog/a.out'), f('main', '/prog/a.out'), f('__libc_start_call_main', '/usr/lib/x86_64-linux-gnu/libc.so.6')];
  const pat = (text: string) => parseSuppressions(`{\n t\n Memcheck:Cond\n${text}\n}\n`, 'm.supp')[0].frames;

  it('matches a prefix of the stack, with * and ? in names', () => {
    assert.ok(framesMatch(pat(' fun:strlen'), stack));
    assert.ok(framesMatch(pat(' fun:str*\n fun:pars?'), stack));
    assert.ok(!framesMatch(pat(' fun:parse'), stack), 'the first line must match the innermost frame');
    assert.ok(!framesMatch(pat(' fun:str?'), stack), '? is exactly one character');
    assert.ok(framesMatch(pat(' obj:*vgpreload*\n obj:/prog/*'), stack));
  });

  it('"..." matches any number of frames, including none', () => {
    assert.ok(framesMatch(pat(' ...\n fun:main'), stack));
    assert.ok(framesMatch(pat(' fun:strlen\n ...\n fun:parse'), stack));
    assert.ok(framesMatch(pat(' ...\n fun:run\n fun:main'), stack));
    assert.ok(!framesMatch(pat(' ...\n fun:run\n fun:parse'), stack));
    assert.ok(!framesMatch(pat(' ...\n fun:nowhere'), stack));
  });

  it('src: compares the file and, when given, the line', () => {
    assert.ok(framesMatch(pat(' ...\n src:p.c'), stack));
    assert.ok(framesMatch(pat(' ...\n src:p.c:9'), stack));
    assert.ok(!framesMatch(pat(' ...\n src:p.c:10'), stack));
  });

  it('below-main functions are seen as "(below main)" unless --show-below-main', () => {
    assert.ok(!framesMatch(pat(' ...\n fun:__libc_start_call_main'), stack));
    assert.ok(framesMatch(pat(' ...\n fun:(below main)'), stack));
    assert.ok(framesMatch(pat(' ...\n fun:__libc_start_call_main'), stack, { showBelowMain: true }));
  });

  it('fun: compares the mangled name; unknown names compare as ???', () => {
    const cxx = [f('operator new(unsigned long)', '/lib/vg.so', { mangled: '_Znwm' }), f(undefined, '/prog/b')];
    assert.ok(framesMatch(pat(' fun:_Znwm'), cxx));
    assert.ok(!framesMatch(pat(' fun:operator new*'), cxx));
    assert.ok(framesMatch(pat(' fun:_Znwm\n fun:???'), cxx));
  });

  it('kinds: sizes, the Param name, leak kinds and Free for both free errors', () => {
    const supp = (kind: string, extra = '') => parseSuppressions(`{\n s\n Memcheck:${kind}\n${extra} fun:strlen\n}\n`, 'k.supp')[0];
    const read4 = R.invalidAccess(false, 4, { stack });
    const write4 = R.invalidAccess(true, 4, { stack });
    assert.ok(suppressionMatches(supp('Addr4'), read4));
    assert.ok(suppressionMatches(supp('Addr4'), write4));
    assert.ok(!suppressionMatches(supp('Addr8'), read4));
    assert.ok(!suppressionMatches(supp('Value4'), read4));
    assert.ok(suppressionMatches(supp('Param', ' write(buf)\n'), R.syscallParamMemory('write(buf)', false, { stack })));
    assert.ok(!suppressionMatches(supp('Param', ' write(buf)\n'), R.syscallParamMemory('read(buf)', false, { stack })));
    assert.ok(suppressionMatches(supp('Free'), R.mismatchedFree({ stack })));
    assert.ok(suppressionMatches(supp('Free'), R.invalidFree({ stack })));
    assert.ok(suppressionMatches(supp('Value0'), R.uninitCondition({ stack })));
    const leak = (state: 'definite' | 'possible') => R.lossRecord({ state, bytes: 8, indirectBytes: 0, blocks: 1, recordNo: 1, totalRecords: 1 }, { stack });
    assert.ok(suppressionMatches(supp('Leak', ' match-leak-kinds: possible\n'), leak('possible')));
    assert.ok(!suppressionMatches(supp('Leak', ' match-leak-kinds: possible\n'), leak('definite')));
    assert.ok(suppressionMatches(supp('FishyValue', ' malloc(size)\n'), R.fishyValue('malloc', 'size', -1, { stack })));
    assert.ok(!suppressionMatches(supp('FishyValue', ' calloc(nmemb)\n'), R.fishyValue('malloc', 'size', -1, { stack })));
    // 3.19 reads no string for CoreMem, so such a suppression never matches.
    assert.ok(!suppressionMatches(supp('CoreMem'), R.coreMemError('signal frame', { stack })));
  });
});

describe('generation', () => {
  it('text: name placeholder, kind, extra line, fun:/obj: per printed frame', () => {
    const rec = R.syscallParamMemory('write(buf)', false, {
      stack: [f('write', '/lib/libc.so.6'), f(undefined, '/prog/x'), f(undefined), f('main', '/prog/x'), f('__libc_start_call_main', '/lib/libc.so.6')],
    });
    assert.equal(generateSuppression(rec), '{\n   <insert_a_suppression_name_here>\n   Memcheck:Param\n   write(buf)\n   fun:write\n   obj:/prog/x\n   obj:*\n   fun:main\n}\n');
    const parts = generateSuppressionParts(rec);
    assert.equal(parts?.kind, 'Memcheck:Param');
    assert.equal(parts?.extra, 'write(buf)');
    assert.deepEqual(parts?.frames, [{ fun: 'write' }, { obj: '/prog/x' }, { obj: '*' }, { fun: 'main' }]);
  });

  it('a generated suppression parses back and matches its own error', () => {
    const stack = [f('operator delete(void*)', '/lib/vg.so', { mangled: '_ZdlPv' }), f('main', '/prog/x')];
    for (const rec of [R.mismatchedFree({ stack }), R.fishyValue('malloc', 'size', -3, { stack }),
      R.lossRecord({ state: 'indirect', bytes: 1, indirectBytes: 0, blocks: 1, recordNo: 1, totalRecords: 1 }, { stack })]) {
      const text = generateSuppression(rec);
      assert.ok(text);
      const [s] = parseSuppressions(text, 'gen.supp');
      assert.ok(suppressionMatches(s, rec), text);
    }
  });

  it('fd errors cannot be suppressed', () => {
    const rec = { kind: 'FdNotClosed' as const, what: 'Open file descriptor 3: /tmp/x', stack: [f('main')], aux: [], tid: 1 };
    assert.equal(generateSuppression(rec), undefined);
  });
});

describe('default suppressions', () => {
  it('load, and hide the lazy-binding trampoline report but not a user error', () => {
    const d = loadDefaultSuppressions();
    assert.ok(d.length >= 5);
    const tramp = R.uninitCondition({ stack: [f('_dl_runtime_resolve_avx_slow', '/lib/ld-linux-x86-64.so.2'), f('main', '/prog/x')] });
    const user = R.uninitCondition({ stack: [f('main', '/prog/x')] });
    assert.ok(d.some((s) => suppressionMatches(s, tramp)));
    assert.ok(!d.some((s) => suppressionMatches(s, user)));
  });
});
