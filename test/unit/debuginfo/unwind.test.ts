/**
 * Unwinding against real machine state: the fixture is run under gdb to its SIGSEGV (inside a
 * qsort comparator, so the stack passes through libc), the registers and the [stack] mapping are
 * saved, and the JS unwinder, with the modules reported at their real load addresses, must give
 * gdb's frames (gdb stops at main; we continue into libc's start code).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DebugInfo } from '../../../engine/debuginfo/debuginfo';
import { build, Capture, captureCrash, have, loadedObjects, stackMemory, tempDir } from './helpers';

function debugInfoFor(cap: Capture): DebugInfo {
  const di = new DebugInfo();
  for (const o of loadedObjects(cap)) di.reportModule(o.path, o.bias);
  return di;
}

/** gdb's physical frames (inline and tail-call frames have no return address of their own). */
const gdbPcs = (cap: Capture): number[] => cap.frames.filter((f) => !f.virtual).map((f) => f.pc);

/** The function of a return address, named as in a Valgrind "by" line (looked up at ra - 1). */
function callerName(di: DebugInfo, ra: number): string | undefined {
  const frames = di.symbolize(ra - 1);
  return frames[frames.length - 1].fn;
}

describe('unwind against gdb', { skip: !have('gcc') || !have('gdb') }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  for (const opt of ['-O0', '-O2']) {
    it(`gives gdb's frames through libc and on to _start at ${opt}`, (t) => {
      const exe = build(tmp.dir, 'qsort_crash.c', `qsort${opt}`, ['-g', opt]);
      const cap = captureCrash(exe, tmp.dir);
      const di = debugInfoFor(cap);
      try {
        const mem = stackMemory(cap);
        const pcs = di.unwind(cap.regs, mem, 64);
        const expected = gdbPcs(cap);
        assert.ok(expected.length >= 9, `gdb saw the whole chain: ${JSON.stringify(cap.frames)}`);
        assert.deepEqual(pcs.slice(0, expected.length).map(hex), expected.map(hex), 'same frames as gdb');
        assert.ok(cap.frames.some((f) => f.name?.includes('qsort')), 'the stack passes through libc');
        const beyondMain = pcs.slice(expected.length).map((pc) => callerName(di, pc));
        // Named as Valgrind prints them (--show-below-main=yes): libc's .symtab spells the
        // default version of __libc_start_main.
        assert.deepEqual(beyondMain, ['__libc_start_call_main', '__libc_start_main@@GLIBC_2.34', '_start']);

        // Valgrind's conventions in stackTrace: frame 0 at rip, callers at ra - 1 (the call).
        const trace = di.stackTrace(cap.regs, mem, 64);
        const physical = trace.filter((f) => !f.inlined);
        assert.equal(physical.length, pcs.length);
        assert.equal(physical[0].ip, pcs[0]);
        for (let i = 1; i < pcs.length; i++) assert.equal(physical[i].ip, pcs[i] - 1);
        assert.deepEqual(trace.slice(0, 3).map((f) => f.fn), ['inl_inner', 'inl_outer', 'cmp']);
        const sorter = trace.find((f) => f.fn === 'sorter');
        assert.equal(sorter?.line, 29, 'a caller frame shows the line of its call');

        // Performance sanity (not asserted): cached unwinds of 10 frames, after a JIT warm-up.
        for (let i = 0; i < 20000; i++) di.unwind(cap.regs, mem, 10);
        const n = 50000;
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < n; i++) di.unwind(cap.regs, mem, 10);
        const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
        t.diagnostic(`${opt}: ${us.toFixed(2)} µs per cached 10-frame unwind`);
      } finally {
        di.close();
      }
    });
  }

  // Without unwind tables gcc -g still describes the frames in .debug_frame; without -g there
  // is no CFI at all for the fixture's functions and only the frame-pointer chain is left.
  for (const [what, debug] of [['.debug_frame when .eh_frame lacks the code', '-g'], ['the rbp chain when there is no CFI', '-g0']]) {
    it(`uses ${what}`, () => {
      const exe = build(tmp.dir, 'qsort_crash.c', `nocfi${debug}`, [
        debug, '-O0', '-fno-omit-frame-pointer', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables',
      ]);
      const cap = captureCrash(exe, tmp.dir);
      const di = debugInfoFor(cap);
      try {
        const pcs = di.unwind(cap.regs, stackMemory(cap), 64);
        const expected = gdbPcs(cap);
        assert.ok(expected.length >= 9, `gdb saw the whole chain: ${JSON.stringify(cap.frames)}`);
        assert.deepEqual(pcs.slice(0, expected.length).map(hex), expected.map(hex));
        assert.equal(callerName(di, pcs[pcs.length - 1]), '_start');
      } finally {
        di.close();
      }
    });
  }

  it('recovers the caller of a call through a NULL function pointer', () => {
    const exe = build(tmp.dir, 'null_call.c', 'nullcall', ['-g', '-O2']);
    const cap = captureCrash(exe, tmp.dir);
    const di = debugInfoFor(cap);
    try {
      const pcs = di.unwind(cap.regs, stackMemory(cap), 64);
      assert.equal(pcs[0], 0, 'frame 0 is the bad pc itself');
      const expected = gdbPcs(cap);
      assert.deepEqual(pcs.slice(0, expected.length).map(hex), expected.map(hex));
      assert.equal(callerName(di, pcs[1]), 'dispatch');
      const trace = di.stackTrace(cap.regs, stackMemory(cap), 64);
      assert.deepEqual(trace[0], { ip: 0 }, 'no module: a bare frame, Valgrind prints ???');
    } finally {
      di.close();
    }
  });

  it('stops at maxFrames and when the stack memory is unreadable', () => {
    const exe = build(tmp.dir, 'qsort_crash.c', 'limits', ['-g', '-O2']);
    const cap = captureCrash(exe, tmp.dir);
    const di = debugInfoFor(cap);
    try {
      assert.deepEqual(di.unwind(cap.regs, stackMemory(cap), 3), gdbPcs(cap).slice(0, 3));
      assert.deepEqual(di.unwind(cap.regs, stackMemory(cap), 1), [Number(cap.regs[16])]);
      const none = { readU64: (): bigint | undefined => undefined };
      assert.deepEqual(di.unwind(cap.regs, none, 64), [Number(cap.regs[16])], 'only frame 0 without memory');
    } finally {
      di.close();
    }
  });
});

function hex(n: number): string {
  return '0x' + n.toString(16);
}
