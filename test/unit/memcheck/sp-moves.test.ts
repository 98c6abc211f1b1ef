/**
 * Merged stack-pointer moves (vbits/sp-moves.ts): a run of pushes and `sub rsp` makes one
 * mc_sp_change from the first rsp to the last, and the run ends before anything that could tell
 * the difference (an access below its marking, an unknown address, an exit, a direction change);
 * a return's run comes with its red zone in one call; with origins every move keeps its own call.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { gprOff, GuestState } from '../../../engine/jit/guest-state';
import { DirtyFn, interpret } from '../../../engine/jit/interp';
import { liftBlock } from '../../../engine/jit/lift/lift';
import { optimize } from '../../../engine/jit/opt';
import { GuestMemoryAccess } from '../../../engine/jit/memory';
import { instrumentMemcheck } from '../../../engine/memcheck/vbits';
import { assemble } from '../jit/asm';

const RSP0 = 0x18000;
const BASE = 0x10000;

/** Flat memory at BASE (64 KiB): enough for the stack and for rdi's target. */
class Flat implements GuestMemoryAccess {
  readonly bytes = new Uint8Array(0x10000);
  load(): bigint { return 0n; }
  store(): void { /* values do not matter here */ }
}

type Event = ['sp' | 'ret', number, number] | ['access', number];

/** Runs one assembled block instrumented with trackSp; the stack moves and memory accesses in order, relative to RSP0. */
function events(lines: string[], origins = false): Event[] {
  const [code] = assemble([lines]);
  const sb = optimize(liftBlock((a, len) => (a >= 0x1000 && a < 0x1000 + code.length ? code.subarray(a - 0x1000, a - 0x1000 + len) : undefined), 0x1000));
  const ir = instrumentMemcheck(sb, { trackSp: true, origins });
  const s = new GuestState();
  s.u64[gprOff(4) >> 3] = BigInt(RSP0);
  s.u64[gprOff(7) >> 3] = BigInt(BASE + 0x100);
  const out: Event[] = [];
  const access: DirtyFn = (_ia, a) => { out.push(['access', Number(a) - RSP0]); return 0n; };
  const dirty: Record<string, DirtyFn> = {
    mc_loadv: access,
    mc_storev: (ia, a) => { access(ia, a); return undefined; },
    mc_sp_change: (_ia, o, n) => { out.push(['sp', Number(o) - RSP0, Number(n) - RSP0]); return undefined; },
    mc_sp_return: (_ia, o, n) => { out.push(['ret', Number(o) - RSP0, Number(n) - RSP0]); return undefined; },
    mc_redzone_undefined: () => undefined,
    mc_loado: () => 0n,
    mc_storeo: () => undefined,
  };
  interpret(ir, s, { mem: new Flat(), dirty });
  return out;
}

describe('merged stack-pointer moves', () => {
  it('makes one call for a prologue, emitted before the first access it cannot place', () => {
    const ev = events(['push rbp', 'mov rbp, rsp', 'push rbx', 'sub rsp, 0x18', 'mov [rsp+8], rdi', 'mov rax, [rdi]', 'ret']);
    // Two pushes and the frame, one call; the load through rdi is somewhere else; ret's pop
    // comes with its red zone.
    assert.deepEqual(ev, [
      ['access', -8], ['access', -16], ['access', -32],
      ['sp', 0, -40],
      ['access', BASE + 0x100 - RSP0],
      ['access', -40], ['ret', -40, -32],
    ]);
  });

  it('merges an epilogue\'s pops and ends the run at a direction change', () => {
    // The optimiser already folds sub+add into one Put; the pops and ret then move up together.
    const ev = events(['sub rsp, 0x20', 'add rsp, 0x10', 'pop rbx', 'pop rbp', 'ret']);
    assert.deepEqual(ev, [['access', -16], ['sp', 0, -16], ['access', -8], ['access', 0], ['ret', -16, 8]]);
  });

  it('ends the run before an access below its marking', () => {
    const ev = events(['push rbx', 'mov [rsp-0x100], rax', 'push rcx', 'ret']);
    assert.deepEqual(ev, [
      ['access', -8], ['sp', 0, -8], ['access', -8 - 0x100],
      ['access', -16], ['access', -16], ['sp', -8, -16], ['ret', -16, -8],
    ]);
  });

  it('keeps one call per move with origins (each names its instruction)', () => {
    // (push rbx's Put is dead before sub's: the optimiser leaves one Put for both.)
    const ev = events(['push rbp', 'push rbx', 'sub rsp, 0x18', 'ret'], true).filter((e) => e[0] === 'sp');
    assert.deepEqual(ev, [['sp', 0, -8], ['sp', -8, -40], ['sp', -40, -32]]);
  });
});
