/**
 * opt.ts forwards a register's known value to a narrower read of it: the read disappears (or
 * becomes a narrowing of the value), and the block computes what the unoptimised block does.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { gprOff, GuestState } from '../../../engine/jit/guest-state';
import { interpret } from '../../../engine/jit/interp';
import { IRSB } from '../../../engine/jit/ir';
import { liftBlock } from '../../../engine/jit/lift/lift';
import { GuestMemoryAccess } from '../../../engine/jit/memory';
import { optimize } from '../../../engine/jit/opt';

const RAX = gprOff(0);

/** Memory the blocks below never touch. */
const NO_MEMORY: GuestMemoryAccess = {
  load: () => { throw new Error('no memory'); },
  store: () => { throw new Error('no memory'); },
};

function lift(hex: string): IRSB {
  const code = Buffer.from(hex, 'hex');
  return liftBlock((a, len) => (a >= 0x1000 && a < 0x1000 + code.length ? code.subarray(a - 0x1000, a - 0x1000 + len) : undefined), 0x1000);
}

const getsOf = (sb: IRSB, off: number): number =>
  sb.stmts.filter((s) => s.tag === 'wrtmp' && s.e.tag === 'get' && s.e.off === off).length;

const narrowings = (sb: IRSB): number =>
  sb.stmts.filter((s) => s.tag === 'wrtmp' && s.e.tag === 'conv' && s.e.op === 'Narrow').length;

/** rax..rdx after running the block from a state with the given registers. */
function run(sb: IRSB, regs: bigint[]): bigint[] {
  const s = new GuestState();
  regs.forEach((v, i) => { s.u64[gprOff(i) >> 3] = v; });
  interpret(sb, s, { mem: NO_MEMORY, dirty: {} });
  return [0, 1, 2, 3].map((i) => s.u64[gprOff(i) >> 3]);
}

describe('opt: narrow reads of a known wider register', () => {
  const cases: { what: string; hex: string; gets: number; narrow: number }[] = [
    // mov eax, ecx; add eax, 1; hlt: eax is ecx's value, zero-extended: no read of rax at all.
    { what: 'a zero-extended 32-bit value read as 32 bits', hex: '89c8' + '83c001' + 'f4', gets: 0, narrow: 0 },
    // add rax, rbx; add eax, 1; sub eax, 2; hlt: one read of rax, its sum narrowed once for both.
    { what: 'a 64-bit result read as 32 bits twice', hex: '4801d8' + '83c001' + '83e802' + 'f4', gets: 1, narrow: 1 },
    // mov rax, 0x1122334455667788; add al, 1; hlt: the low byte of a constant is a constant.
    { what: 'a constant read as 8 bits', hex: '48b88877665544332211' + '0401' + 'f4', gets: 0, narrow: 0 },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const raw = lift(c.hex);
      const sb = optimize(raw);
      assert.equal(getsOf(sb, RAX), c.gets, 'reads of rax');
      assert.equal(narrowings(sb), c.narrow, 'narrowings');
      for (const regs of [[0n, 0xffff_fffen, 0x1234n, 7n], [0xdead_beef_0000_0001n, 5n, 0n, 0xffff_ffff_ffff_ffffn]]) {
        assert.deepEqual(run(sb, regs), run(raw, regs));
      }
    });
  }
});
