/**
 * Record builders and their inverse, address descriptions, stack trimming, the wildcard matcher,
 * number formatting and the leak-record reporting.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ErrorFrame, ErrorRecord } from '../../../engine/errors/error-record';
import { describeAddress, describeOrigin } from '../../../engine/errors/address-description';
import { ErrorManager } from '../../../engine/errors/error-manager';
import { hexAlt, withCommas } from '../../../engine/errors/format';
import { sequenceMatch, wildcardMatch } from '../../../engine/errors/glob';
import { parseLeakKinds } from '../../../engine/errors/leak-kinds';
import { reportLossRecords, sortLossRecords } from '../../../engine/errors/leak-report';
import * as R from '../../../engine/errors/records';
import { parseSuppressions } from '../../../engine/errors/suppressions';
import { printedFrames } from '../../../engine/errors/stack';

const main: ErrorFrame[] = [{ ip: 0x109187, fn: 'main', file: 'example.c', line: 10 }];

describe('records', () => {
  it('primary lines are Valgrind\'s', () => {
    const c = { stack: main };
    assert.equal(R.invalidAccess(false, 4, c).what, 'Invalid read of size 4');
    assert.equal(R.invalidAccess(true, 1, c).what, 'Invalid write of size 1');
    assert.equal(R.uninitValue(8, c).what, 'Use of uninitialised value of size 8');
    assert.equal(R.syscallParamRegister('exit_group(status)', c).what, 'Syscall param exit_group(status) contains uninitialised byte(s)');
    assert.equal(R.syscallParamMemory('write(buf)', true, c).what, 'Syscall param write(buf) points to unaddressable byte(s)');
    assert.equal(R.clientCheck(false, c).what, 'Uninitialised byte(s) found during client check request');
    assert.equal(R.mismatchedFree(c).what, 'Mismatched free() / delete / delete []');
    assert.equal(R.overlap('strcpy', 0x1fff0005c0, 0x1fff0005c5, undefined, c).what, 'Source and destination overlap in strcpy(0x1fff0005c0, 0x1fff0005c5)');
    assert.equal(R.overlap('memcpy', 0, 0x10, 7, c).what, 'Source and destination overlap in memcpy(0, 0x10, 7)');
    assert.equal(R.fishyValue('malloc', 'size', -5, c).what, "Argument 'size' of function malloc has a fishy (possibly negative) value: -5");
    assert.equal(R.coreMemError('signal frame', c).what, 'signal frame contains unaddressable byte(s)');
    assert.equal(R.lossRecordText({ state: 'definite', bytes: 16, indirectBytes: 16, blocks: 1, recordNo: 3, totalRecords: 3 }),
      '32 (16 direct, 16 indirect) bytes in 1 blocks are definitely lost in loss record 3 of 3');
    assert.equal(R.lossRecordText({ state: 'definite', bytes: 1000, indirectBytes: 0, blocks: 1000, recordNo: 1234, totalRecords: 1234 }),
      '1,000 bytes in 1,000 blocks are definitely lost in loss record 1,234 of 1,234');
  });

  it('completeFromWhat recovers what the builders put in, from the text alone', () => {
    const c = { stack: main };
    const built: ErrorRecord[] = [
      R.invalidAccess(true, 8, c), R.uninitValue(2, c), R.syscallParamRegister('exit(status)', c),
      R.syscallParamMemory('write(buf)', false, c), R.clientCheck(true, c), R.coreMemError('x', c),
      R.overlap('strncpy', 0x10, 0x20, 10, c), R.overlap('strcpy', 0x10, 0x20, undefined, c),
      R.fishyValue('calloc', 'nmemb', -1, c),
      R.lossRecord({ state: 'possible', bytes: 1234, indirectBytes: 0, blocks: 3, recordNo: 2, totalRecords: 9 }, c),
      R.lossRecord({ state: 'definite', bytes: 16, indirectBytes: 32, blocks: 1, recordNo: 9, totalRecords: 9 }, c),
    ];
    for (const b of built) {
      const bare: ErrorRecord = { kind: b.kind, what: b.what, stack: b.stack, aux: [], tid: 1 };
      assert.deepEqual(R.completeFromWhat(bare), b, b.what);
    }
    // Valgrind's XML puts a newline at the end of FishyValue and two-argument Overlap texts.
    const fishy = R.completeFromWhat({ kind: 'FishyValue', what: "Argument 'size' of function malloc has a fishy (possibly negative) value: -1\n", stack: [], aux: [], tid: 1 });
    assert.deepEqual(fishy.fishy, { fn: 'malloc', arg: 'size', value: -1 });
  });
});

describe('address descriptions', () => {
  const alloc: ErrorFrame[] = [{ ip: 0x48417b4, fn: 'malloc' }];
  const free: ErrorFrame[] = [{ ip: 0x484417b, fn: 'free' }];
  it('heap blocks: after, before, inside; alloc\'d and free\'d', () => {
    const after = describeAddress({ tag: 'block', addr: 0x4a40068, kind: 'mallocd', size: 40, offset: 40, allocStack: alloc });
    assert.deepEqual(after.map((a) => a.text), ["Address 0x4a40068 is 0 bytes after a block of size 40 alloc'd"]);
    assert.equal(after[0].stack, alloc);
    const before = describeAddress({ tag: 'block', addr: 0x4a4003c, kind: 'mallocd', size: 40, offset: -4 });
    assert.equal(before[0].text, "Address 0x4a4003c is 4 bytes before a block of size 40 alloc'd");
    const freed = describeAddress({ tag: 'block', addr: 0x4a40040, kind: 'freed', size: 1000000, offset: 2000, allocStack: alloc, freeStack: free });
    assert.deepEqual(freed.map((a) => [a.text, a.role]), [
      ["Address 0x4a40040 is 2,000 bytes inside a block of size 1,000,000 free'd", 'freed'],
      ["Block was alloc'd at", 'allocated'],
    ]);
    assert.equal(freed[0].stack, free);
    const arena = describeAddress({ tag: 'block', addr: 0x10, kind: 'arena-unallocated', size: 64, offset: 8, arena: 'client' });
    assert.equal(arena[0].text, 'Address 0x10 is 8 bytes inside an unallocated block of size 64 in arena "client"');
  });

  it('stack, unknown, data symbol, segments, brk and origin lines', () => {
    assert.deepEqual(describeAddress({ tag: 'stack', addr: 0x1fff0005e0, thread: 1, frame: { no: 1, fn: 'main', file: 'example.c', line: 10 } }).map((a) => a.text),
      ["Address 0x1fff0005e0 is on thread 1's stack", 'in frame #1, created by main (example.c:10)']);
    assert.equal(describeAddress({ tag: 'stack', addr: 0x10, thread: 2, belowStackPointer: { bytes: 8192, guardPage: false } })[1].text, '8192 bytes below stack pointer');
    assert.equal(describeAddress({ tag: 'unknown', addr: 0 })[0].text, "Address 0x0 is not stack'd, malloc'd or (recently) free'd");
    assert.equal(describeAddress({ tag: 'datasym', addr: 0x4010, offset: 4, name: 'table' })[0].text, 'Address 0x4010 is 4 bytes inside data symbol "table"');
    assert.equal(describeAddress({ tag: 'segment', addr: 0x5000, r: true, w: false, x: false, segment: 'mapped file', file: '/etc/x' })[0].text,
      'Address 0x5000 is in a r-- mapped file /etc/x segment');
    assert.equal(describeAddress({ tag: 'brk', addr: 0x20, base: 0x10, limit: 0x18 })[0].text, 'Address 0x20 is 8 bytes after the brk data segment limit 0x18');
    const text = describeAddress({ tag: 'section', addr: 0x1098c0, section: 'Text', obj: '/tmp/prog', textFrames: main });
    assert.deepEqual(text, [{ role: 'address', text: 'Address 0x1098c0 is in the Text segment of /tmp/prog', stack: main }]);
    assert.deepEqual(describeAddress({ tag: 'section', addr: 0x4000, section: 'BSS', obj: '/tmp/prog' }),
      [{ role: 'address', text: 'Address 0x4000 is in the BSS segment of /tmp/prog' }]);
    assert.equal(describeAddress({ tag: 'brk', addr: 0x4035000, base: 0x4035000, limit: 0x4036000 })[0].text,
      'Address 0x4035000 is in the brk data segment 0x4035000-0x4035fff');
    assert.equal(describeOrigin('stack', main).text, 'Uninitialised value was created by a stack allocation');
    assert.equal(describeOrigin('unknown', main).text, 'Uninitialised value was created');
  });
});

describe('stacks', () => {
  const fr = (fn: string, inlined = false): ErrorFrame => ({ ip: fn.length, fn, ...(inlined ? { inlined } : {}) });
  it('printing stops at main, or at the innermost below-main function without main', () => {
    const s = [fr('f'), fr('main'), fr('__libc_start_call_main'), fr('__libc_start_main'), fr('_start')];
    assert.deepEqual(printedFrames(s).map((x) => x.fn), ['f', 'main']);
    assert.deepEqual(printedFrames(s, true).map((x) => x.fn), ['f', 'main', '__libc_start_call_main', '__libc_start_main', '_start']);
    const noMain = [fr('handler'), fr('__libc_start_call_main'), fr('_start')];
    assert.deepEqual(printedFrames(noMain).map((x) => x.fn), ['handler', '(below main)']);
  });

  it('an inlined call into main is printed with main', () => {
    const s = [fr('helper', true), fr('main'), fr('_start')];
    assert.deepEqual(printedFrames(s).map((x) => x.fn), ['helper', 'main']);
  });
});

describe('matcher and formatting', () => {
  it('wildcards match like Valgrind\'s string matcher', () => {
    const cases: [string, string, boolean][] = [
      ['', '', true], ['a', '', false], ['a', 'a', true], ['*', '', true], ['**', '', true], ['*', 'abc', true],
      ['*a', 'abc', false], ['*bc', 'abc', true], ['a*c', 'abc', true], ['c*c', 'abc', false], ['abc**', 'abc', true],
      ['**a*b*c**', 'abc', true], ['**a*b*d**', 'abc', false], ['a?c', 'abc', true], ['?', '', false], ['ab', 'abc', false],
    ];
    for (const [p, s, want] of cases) assert.equal(wildcardMatch(p, s), want, `${p} ~ ${s}`);
  });

  it('prefix sequence match with stars stays fast on long inputs', () => {
    const input = Array.from({ length: 400 }, (_, i) => `f${i}`);
    const patt = ['*', '*', '*', 'nope', '*', 'f1'];
    const t0 = Date.now();
    assert.equal(sequenceMatch(patt, input.length, (p) => p === '*', () => false, (p, i) => p === input[i], false), false);
    assert.ok(Date.now() - t0 < 2000);
  });

  it('numbers', () => {
    assert.equal(withCommas(0), '0');
    assert.equal(withCommas(999), '999');
    assert.equal(withCommas(1000), '1,000');
    assert.equal(withCommas(1234567), '1,234,567');
    assert.equal(withCommas(-72736), '-72,736');
    assert.equal(hexAlt(0), '0');
    assert.equal(hexAlt(255), '0xff');
  });

  it('leak kind sets', () => {
    assert.deepEqual([...(parseLeakKinds('definite,possible') ?? [])], ['definite', 'possible']);
    assert.equal(parseLeakKinds('all')?.size, 4);
    assert.equal(parseLeakKinds('none')?.size, 0);
    for (const bad of ['', 'all,definite', 'none,all', 'definite, possible', 'lost']) assert.equal(parseLeakKinds(bad), undefined, bad);
  });
});

describe('leak records', () => {
  const s = (ip: number): ErrorFrame[] => [{ ip, fn: 'malloc' }, { ip: ip + 1, fn: 'main' }];
  const records = [
    { state: 'definite' as const, stack: s(0x10), bytes: 1000, indirectBytes: 0, blocks: 1000 },
    { state: 'indirect' as const, stack: s(0x20), bytes: 16, indirectBytes: 0, blocks: 1 },
    { state: 'definite' as const, stack: s(0x30), bytes: 16, indirectBytes: 16, blocks: 1 },
    { state: 'reachable' as const, stack: s(0x40), bytes: 7, indirectBytes: 0, blocks: 1 },
    { state: 'possible' as const, stack: s(0x50), bytes: 16, indirectBytes: 0, blocks: 1 },
  ];

  it('sort by total size, then state (reachable first), then blocks', () => {
    assert.deepEqual(sortLossRecords(records).map((r) => r.stack[0].ip), [0x40, 0x50, 0x20, 0x30, 0x10]);
  });

  it('full mode shows the asked kinds and counts the asked kinds; suppressed direct bytes move to suppressed', () => {
    const m = new ErrorManager({ suppressions: parseSuppressions('{\n s\n Memcheck:Leak\n match-leak-kinds: definite\n fun:malloc\n fun:main\n}\n', 'l.supp') });
    const shown: string[] = [];
    m.on('error', (ctx) => shown.push(ctx.record.what));
    // Only the 0x30 definite record's stack is suppressed: make the other definite differ.
    const recs = records.map((r) => (r.stack[0].ip === 0x10 ? { ...r, stack: [{ ip: 0x10, fn: 'calloc' }, { ip: 0x11, fn: 'main' }] } : r));
    const sum = reportLossRecords(m, recs, { mode: 'full', showKinds: new Set(['definite', 'possible']), errorsForKinds: new Set(['definite']) });
    assert.deepEqual(shown, [
      '16 bytes in 1 blocks are possibly lost in loss record 2 of 5',
      '1,000 bytes in 1,000 blocks are definitely lost in loss record 5 of 5',
    ]);
    assert.deepEqual(sum.suppressed, { bytes: 16, blocks: 1 });
    assert.deepEqual(sum.definite, { bytes: 1000, blocks: 1000 });
    assert.deepEqual(sum.indirect, { bytes: 16, blocks: 1 });
    assert.deepEqual(m.counts(), { errors: 1, contexts: 1, suppressed: 1, suppressedContexts: 1, shown: 2 });
  });

  it('summary mode shows and counts nothing, but still applies suppressions', () => {
    const m = new ErrorManager({ suppressions: parseSuppressions('{\n s\n Memcheck:Leak\n fun:malloc\n}\n', 'l.supp') });
    let shown = 0;
    m.on('error', () => shown++);
    const sum = reportLossRecords(m, records, { mode: 'summary', showKinds: new Set(['definite']), errorsForKinds: new Set(['definite']) });
    assert.equal(shown, 0);
    assert.deepEqual(sum.suppressed, { bytes: 1055, blocks: 1004 });
    assert.deepEqual(m.counts().errors, 0);
    assert.equal(m.usedSuppressions()[0].count, 5);
  });

  it('delta searches pick the records that grew or changed and print each figure with its change', () => {
    const m = new ErrorManager();
    const shown: string[] = [];
    m.on('error', (ctx) => shown.push(ctx.record.what));
    const recs = [
      // gone since the previous search (kept one more search with zero figures)
      { state: 'reachable' as const, stack: s(0x10), bytes: 0, indirectBytes: 0, blocks: 0, old: { bytes: 30, indirectBytes: 0, blocks: 1 } },
      // new
      { state: 'definite' as const, stack: s(0x20), bytes: 7, indirectBytes: 0, blocks: 1 },
      // unchanged
      { state: 'definite' as const, stack: s(0x30), bytes: 100, indirectBytes: 0, blocks: 1, old: { bytes: 100, indirectBytes: 0, blocks: 1 } },
      // grew through its indirect bytes only
      { state: 'definite' as const, stack: s(0x40), bytes: 16, indirectBytes: 2000, blocks: 1, old: { bytes: 16, indirectBytes: 1000, blocks: 1 } },
    ];
    const params = { mode: 'full' as const, showKinds: new Set(['definite', 'reachable'] as const), errorsForKinds: new Set(['definite'] as const) };
    reportLossRecords(m, recs, { ...params, delta: 'increased' });
    assert.deepEqual(shown, [
      '7 (+7) bytes in 1 (+1) blocks are definitely lost in loss record 2 of 4',
      '2,016 (+1,000) (16 (+0) direct, 2,000 (+1,000) indirect) bytes in 1 (+0) blocks are definitely lost in loss record 4 of 4',
    ]);
    shown.length = 0;
    const previous = reportLossRecords(new ErrorManager(), [], params);
    const sum = reportLossRecords(m, recs, { ...params, delta: 'changed' }, [], 1, { ...previous, reachable: { bytes: 30, blocks: 1 } });
    assert.equal(shown[0], '0 (-30) bytes in 0 (-1) blocks are still reachable in loss record 1 of 4');
    assert.equal(shown.length, 3);
    assert.deepEqual(sum.previous?.reachable, { bytes: 30, blocks: 1 });
    // A record whose figures went to zero is no error, whatever its kind.
    assert.equal(m.counts().errors, 4);
    // The ordinary search shows no changes and skips records without blocks.
    shown.length = 0;
    reportLossRecords(m, recs, params);
    assert.deepEqual(shown.map((t) => t.replace(/ bytes in .*/, '')), ['7', '100', '2,016 (16 direct, 2,000 indirect)']);
  });

  it('loss-record texts of delta searches read back', () => {
    const rec = R.completeFromWhat({ kind: 'Leak_DefinitelyLost', what: '2,016 (+1,000) (16 (+0) direct, 2,000 (+1,000) indirect) bytes in 1 (+0) blocks are definitely lost in loss record 4 of 4', stack: [], aux: [], tid: 1 });
    assert.deepEqual(rec.leak, { state: 'definite', bytes: 16, indirectBytes: 2000, blocks: 1, recordNo: 4, totalRecords: 4 });
  });
});
