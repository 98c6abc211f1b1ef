/**
 * A memory fault in compiled code names its instruction (the signal report's pc and the state's
 * RIP), in a block whose earlier instructions make no memory access and call no helper, with and
 * without a fused shadow access.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { compileBlock } from '../../../engine/jit/codegen';
import { OFF, GuestState } from '../../../engine/jit/guest-state';
import { DirtyFn } from '../../../engine/jit/interp';
import { liftBlock } from '../../../engine/jit/lift/lift';
import { GuestMemoryAccess, GuestMemoryFault } from '../../../engine/jit/memory';
import { optimize } from '../../../engine/jit/opt';
import { instrumentMemcheck } from '../../../engine/memcheck/vbits';
import type { FusedAccess } from '../../../engine/jit/fused-access';

/** Memory where every access faults. */
class Unmapped implements GuestMemoryAccess {
  load(addr: number, size: number): bigint { throw new GuestMemoryFault(addr, size, false); }
  store(addr: number, size: number): void { throw new GuestMemoryFault(addr, size, true); }
}

// mov eax, 1; add ebx, eax; mov rdx, [rcx] (at 0x1008); nop
const CODE = Buffer.from('b801000000' + '01c3' + '90' + '488b11' + '90', 'hex');

function faultOf(memcheck: boolean): { at: number; rip: bigint } {
  const sb0 = optimize(liftBlock((a, len) => (a >= 0x1000 && a < 0x1000 + CODE.length ? CODE.subarray(a - 0x1000, a - 0x1000 + len) : undefined), 0x1000));
  const sb = memcheck ? optimize(instrumentMemcheck(sb0)) : sb0;
  const mem = new Unmapped();
  const dirty: Record<string, DirtyFn> = { mc_loadv: () => 0n, mc_storev: () => undefined, mc_value_fail: () => undefined, mc_cond_fail: () => undefined };
  const fused: FusedAccess = { v: 0n, load: (_ia, a, n) => mem.load(a, n), store: (_ia, a, n) => mem.store(a, n) };
  const run = compileBlock(sb, memcheck ? { fuse: { load: 'mc_loadv', store: 'mc_storev' } } : {});
  const s = new GuestState();
  try {
    run(s, { mem, dirty, fused });
  } catch (e) {
    assert.ok(e instanceof GuestMemoryFault);
    return { at: e.insnAddr, rip: s.u64[OFF.RIP >> 3] };
  }
  assert.fail('no fault');
}

describe('memory faults in compiled code', () => {
  it('carry the faulting instruction\'s address, plain and instrumented (fused)', () => {
    assert.deepEqual(faultOf(false), { at: 0x1008, rip: 0x1008n });
    assert.deepEqual(faultOf(true), { at: 0x1008, rip: 0x1008n });
  });
});
