/**
 * The error manager: dedupe rules per kind, stack resolution, counts, uniques, list orders,
 * suppression bookkeeping, events and the collection limits.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ErrorFrame, ErrorRecord } from '../../../engine/errors/error-record';
import { ErrorManager } from '../../../engine/errors/error-manager';
import type { LimitEvent } from '../../../engine/errors/error-manager';
import * as R from '../../../engine/errors/records';
import { parseSuppressions } from '../../../engine/errors/suppressions';

/** A stack whose frames have the given instruction addresses. */
const st = (...ips: number[]): ErrorFrame[] => ips.map((ip, i) => ({ ip, fn: i === ips.length - 1 ? 'main' : `f${ip.toString(16)}`, obj: '/p' }));

describe('dedupe', () => {
  it('same kind and stack is one context, counted', () => {
    const m = new ErrorManager();
    const a = m.report(R.invalidAccess(false, 4, { stack: st(1, 2) }));
    const b = m.report(R.invalidAccess(false, 4, { stack: st(1, 2) }));
    assert.equal(a.isNew, true);
    assert.equal(b.isNew, false);
    assert.equal(b.context, a.context);
    assert.equal(a.context?.count, 2);
    assert.deepEqual(m.counts(), { errors: 2, contexts: 1, suppressed: 0, suppressedContexts: 0, shown: 1 });
  });

  it('reads and writes of one size at one place are one context (Valgrind\'s Addr kind)', () => {
    const m = new ErrorManager();
    m.report(R.invalidAccess(false, 4, { stack: st(1) }));
    assert.equal(m.report(R.invalidAccess(true, 4, { stack: st(1) })).isNew, false);
    assert.equal(m.report(R.invalidAccess(true, 8, { stack: st(1) })).isNew, true, 'sizes differ');
  });

  it('kind-specific details decide for params, client checks, values and fishy values', () => {
    const s = st(5, 6);
    const pairs: [ErrorRecord, ErrorRecord, boolean][] = [
      [R.syscallParamRegister('exit(status)', { stack: s }), R.syscallParamRegister('exit(status)', { stack: s }), true],
      [R.syscallParamRegister('write(fd)', { stack: s }), R.syscallParamRegister('write(count)', { stack: s }), false],
      [R.syscallParamMemory('write(buf)', false, { stack: s }), R.syscallParamMemory('write(buf)', true, { stack: s }), false],
      [R.syscallParamMemory('read(buf)', true, { stack: s }), R.syscallParamRegister('read(buf)', { stack: s }), false],
      [R.clientCheck(true, { stack: s }), R.clientCheck(false, { stack: s }), false],
      [R.uninitValue(4, { stack: s }), R.uninitValue(8, { stack: s }), false],
      [R.fishyValue('malloc', 'size', -1, { stack: s }), R.fishyValue('malloc', 'size', -9, { stack: s }), true],
      [R.fishyValue('calloc', 'nmemb', -1, { stack: s }), R.fishyValue('calloc', 'size', -1, { stack: s }), false],
      [R.overlap('strcpy', 1, 2, undefined, { stack: s }), R.overlap('strcpy', 3, 4, 9, { stack: s }), true],
      [R.invalidFree({ stack: s }), R.mismatchedFree({ stack: s }), false],
    ];
    for (const [a, b, same] of pairs) {
      const mm = new ErrorManager();
      mm.report(a);
      assert.equal(mm.report(b).isNew, !same, `${a.what} vs ${b.what}`);
    }
  });

  it('stacks are compared on their first four addresses, then on two after 100 shown errors', () => {
    const m = new ErrorManager();
    m.report(R.uninitCondition({ stack: st(1, 2, 3, 4, 5) }));
    assert.equal(m.report(R.uninitCondition({ stack: st(1, 2, 3, 4, 9) })).isNew, false, 'fifth frame ignored');
    assert.equal(m.report(R.uninitCondition({ stack: st(1, 2, 3, 9, 5) })).isNew, true, 'fourth frame counts');
    assert.equal(m.report(R.uninitCondition({ stack: st(1, 2, 3) })).isNew, true, 'shorter stack differs');
    for (let i = 0; i < 100; i++) m.report(R.uninitCondition({ stack: st(1000 + i) }));
    assert.ok(m.counts().shown >= 100);
    assert.equal(m.report(R.uninitCondition({ stack: st(1, 2, 7, 7) })).isNew, false, 'low resolution: two frames');
  });

  it('inlined frames share their physical frame\'s address', () => {
    const m = new ErrorManager();
    const inl = (fn: string): ErrorFrame => ({ ip: 0x10, fn, inlined: true });
    m.report(R.uninitCondition({ stack: [inl('a'), { ip: 0x10, fn: 'outer' }, { ip: 0x20, fn: 'main' }] }));
    assert.equal(m.report(R.uninitCondition({ stack: [inl('b'), { ip: 0x10, fn: 'outer' }, { ip: 0x20, fn: 'main' }] })).isNew, false);
  });
});

describe('uniques, orders and events', () => {
  it('every error takes a unique id, repeats and suppressed ones included', () => {
    const supp = parseSuppressions('{\n s\n Memcheck:Jump\n fun:main\n}\n', 's.supp');
    const m = new ErrorManager({ suppressions: supp });
    const u = [
      m.report(R.uninitCondition({ stack: st(1) })),
      m.report(R.uninitCondition({ stack: st(1) })),
      m.report(R.invalidJump({ stack: st(2) })),
      m.report(R.uninitCondition({ stack: st(3) })),
    ].map((o) => o.context?.unique);
    assert.deepEqual(u, [0, 0, 2, 3]);
    assert.deepEqual(m.counts(), { errors: 3, contexts: 2, suppressed: 1, suppressedContexts: 1, shown: 2 });
  });

  it('a repeated context moves to the front; the listing sorts by count, then list order', () => {
    const m = new ErrorManager();
    const a = m.report(R.uninitCondition({ stack: st(1) })).context;
    const b = m.report(R.uninitCondition({ stack: st(2) })).context;
    const c = m.report(R.uninitCondition({ stack: st(3) })).context;
    m.report(R.uninitCondition({ stack: st(1) }));
    assert.deepEqual(m.contexts(), [a, c, b]);
    assert.deepEqual(m.contextsForListing(), [c, b, a]);
    assert.equal(m.lastError(), a);
  });

  it('publishes new and repeated errors, suppressed ones separately', () => {
    const supp = parseSuppressions('{\n s\n Memcheck:Free\n fun:main\n}\n', 's.supp');
    const m = new ErrorManager({ suppressions: supp });
    const seen: string[] = [];
    const off = m.on('error', (ctx, isNew) => seen.push(`${ctx.record.kind}:${isNew}`));
    m.on('suppressed', (ctx, use, isNew) => seen.push(`supp:${use.suppression.name}:${use.count}:${isNew}`));
    m.report(R.uninitCondition({ stack: st(1) }));
    m.report(R.uninitCondition({ stack: st(1) }));
    m.report(R.invalidFree({ stack: st(2) }));
    m.report(R.invalidFree({ stack: st(2) }));
    off();
    m.report(R.uninitCondition({ stack: st(1) }));
    assert.deepEqual(seen, ['UninitCondition:true', 'UninitCondition:false', 'supp:s:1:true', 'supp:s:2:false']);
  });

  it('the last matching suppression read is tried first, and a match moves to the front', () => {
    const supps = parseSuppressions('{\n first\n Memcheck:Cond\n fun:main\n}\n{\n second\n Memcheck:Cond\n fun:*\n}\n{\n third\n Memcheck:Jump\n fun:main\n}\n', 'o.supp');
    const m = new ErrorManager({ suppressions: supps });
    const r = m.report(R.uninitCondition({ stack: st(1) }));
    assert.equal(r.context?.suppression?.name, 'second');
    m.report(R.invalidJump({ stack: st(2) }));
    assert.deepEqual(m.usedSuppressions().map((u) => u.suppression.name), ['third', 'second']);
  });

  it('leak records are never merged, and go through reportUnique only', () => {
    const m = new ErrorManager();
    const rec = () => R.lossRecord({ state: 'definite', bytes: 8, indirectBytes: 0, blocks: 1, recordNo: 1, totalRecords: 1 }, { stack: st(1) });
    assert.throws(() => m.report(rec()), /reportUnique/);
    const shown: number[] = [];
    m.on('error', (ctx) => shown.push(ctx.unique));
    m.reportUnique(rec(), { print: true, count: true });
    m.reportUnique(rec(), { print: false, count: true });
    m.reportUnique(rec(), { print: true, count: false });
    assert.deepEqual(shown, [0, 2]);
    assert.deepEqual(m.counts(), { errors: 2, contexts: 2, suppressed: 0, suppressedContexts: 0, shown: 2 });
    assert.deepEqual(m.contexts(), [], 'unique errors are not in the context list');
  });

  it('leak suppressions sum direct+indirect bytes per leak search', () => {
    const m = new ErrorManager({ suppressions: parseSuppressions('{\n l\n Memcheck:Leak\n fun:main\n}\n', 'l.supp') });
    const rec = (bytes: number, ind: number) => R.lossRecord({ state: 'definite', bytes, indirectBytes: ind, blocks: 2, recordNo: 1, totalRecords: 1 }, { stack: st(1) });
    m.beginLeakSearch();
    assert.equal(m.reportUnique(rec(16, 16), { print: true, count: true }).suppressed, true);
    m.reportUnique(rec(4, 0), { print: true, count: false });
    assert.deepEqual(m.usedSuppressions()[0].leak, { bytes: 36, blocks: 4, search: 1 });
    assert.equal(m.usedSuppressions()[0].count, 2);
    assert.deepEqual(m.counts(), { errors: 0, contexts: 0, suppressed: 1, suppressedContexts: 1, shown: 0 });
    m.beginLeakSearch();
    m.reportUnique(rec(1, 0), { print: true, count: true });
    assert.deepEqual(m.usedSuppressions()[0].leak, { bytes: 1, blocks: 2, search: 2 });
  });
});

describe('limits', () => {
  it('stops collecting after the shown-errors limit, once announcing it', () => {
    const events: [LimitEvent, number][] = [];
    const m = new ErrorManager({ limits: { maxShown: 5, slowAfter: 3 } });
    m.on('limit', (w, n) => events.push([w, n]));
    for (let i = 0; i < 10; i++) m.report(R.uninitCondition({ stack: st(100 + i) }));
    assert.deepEqual(events, [['slowdown', 3], ['stop-shown', 5]]);
    assert.deepEqual(m.counts(), { errors: 5, contexts: 5, suppressed: 0, suppressedContexts: 0, shown: 5 });
  });

  it('stops after the total-errors limit', () => {
    const events: LimitEvent[] = [];
    const m = new ErrorManager({ limits: { maxFound: 4 } });
    m.on('limit', (w) => events.push(w));
    for (let i = 0; i < 7; i++) m.report(R.uninitCondition({ stack: st(1) }));
    assert.deepEqual(events, ['stop-found']);
    assert.equal(m.counts().errors, 4);
  });

  it('Valgrind\'s default limits are 100 / 1000 / 10,000,000 and --error-limit=no or XML lifts them', () => {
    const events: LimitEvent[] = [];
    const m = new ErrorManager();
    m.on('limit', (w) => events.push(w));
    for (let i = 0; i < 1005; i++) m.report(R.uninitCondition({ stack: st(0x10000 + i, 1) }));
    assert.deepEqual(events, ['slowdown', 'stop-shown']);
    assert.equal(m.counts().contexts, 1000);
    for (const opts of [{ errorLimit: false }, { xml: true }]) {
      const free = new ErrorManager(opts);
      const ev: LimitEvent[] = [];
      free.on('limit', (w) => ev.push(w));
      for (let i = 0; i < 1005; i++) free.report(R.uninitCondition({ stack: st(0x10000 + i, 1) }));
      assert.equal(free.counts().contexts, 1005);
      assert.deepEqual(ev, opts.xml ? [] : ['slowdown']);
    }
  });
});
