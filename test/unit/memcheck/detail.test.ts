/**
 * Which operations get memcheck's exact rules (engine/memcheck/vbits/detail.ts): the three levels
 * of --expensive-definedness-checks, the address-only analysis that keeps an add cheap under
 * auto, and the literals that make a whole block exact.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { gprOff } from '../../../engine/jit/guest-state';
import { Atom, IRBuilder, IRSB, Ty } from '../../../engine/jit/ir';
import { blockDetail, hasBogusLiterals } from '../../../engine/memcheck/vbits/detail';

/** A block built by f; returns it and the temporaries f names. */
function build(f: (b: IRBuilder) => Record<string, Atom>): { sb: IRSB; t: Record<string, number> } {
  const b = new IRBuilder();
  b.imark(0x1000, 4);
  const named = f(b);
  const sb = b.finish(0x1000, b.c(Ty.I64, 0x1004), 'Boring', 1, 4);
  const t: Record<string, number> = {};
  for (const [k, a] of Object.entries(named)) {
    assert.equal(a.tag, 'tmp');
    if (a.tag === 'tmp') t[k] = a.t;
  }
  return { sb, t };
}

const reg = (b: IRBuilder, n: number, ty = Ty.I64): Atom => b.get(gprOff(n), ty);

describe('exact definedness rules by block', () => {
  it('auto: an add used only as an address (also through another add) stays cheap', () => {
    const { sb, t } = build((b) => {
      const base = b.binop('Add', reg(b, 0), reg(b, 1));
      const addr = b.binop('Add', base, b.c(Ty.I64, 8));
      b.put(gprOff(2), b.load(Ty.I64, addr));
      const ptr = b.binop('Add', reg(b, 3), b.c(Ty.I64, 16));
      b.store(ptr, reg(b, 4));
      b.put(gprOff(3), ptr);
      const counter = b.binop('Add', reg(b, 5, Ty.I32), b.c(Ty.I32, 1));
      b.put(gprOff(5), counter);
      const byte = b.binop('Add', reg(b, 6, Ty.I8), b.c(Ty.I8, 1));
      b.put(gprOff(6), byte);
      return { base, addr, ptr, counter, byte };
    });
    const d = blockDetail(sb, 'auto');
    assert.equal(d.exactAdd(t.base, Ty.I64), false);
    assert.equal(d.exactAdd(t.addr, Ty.I64), false);
    // Also stored in a register: its bits matter one by one.
    assert.equal(d.exactAdd(t.ptr, Ty.I64), true);
    assert.equal(d.exactAdd(t.counter, Ty.I32), true);
    // memcheck has one rule for 8- and 16-bit adds.
    assert.equal(d.exactAdd(t.byte, Ty.I8), false);
    assert.equal(d.exactSub(Ty.I64), false);
    assert.deepEqual([Ty.I8, Ty.I16, Ty.I32, Ty.I64].map((ty) => d.exactCmpEq(ty)), [false, true, true, true]);
  });

  it('auto: a bogus literal or a pmovmskb makes the whole block exact', () => {
    const literal = build((b) => {
      const x = b.binop('And', reg(b, 0, Ty.I32), b.c(Ty.I32, 0x80808080));
      b.put(gprOff(1), x);
      return {};
    }).sb;
    assert.equal(hasBogusLiterals(literal), true);
    const d = blockDetail(literal, 'auto');
    assert.equal(d.exactSub(Ty.I64), true);
    assert.equal(d.exactCmpEq(Ty.I8), true);
    const movmsk = build((b) => {
      b.put(gprOff(1), b.conv('GetMSBs8x16', Ty.I32, b.get(0x200, Ty.I128)));
      return {};
    }).sb;
    assert.equal(hasBogusLiterals(movmsk), true);
    const plain = build((b) => {
      b.put(gprOff(1), b.binop('And', reg(b, 0, Ty.I32), b.c(Ty.I32, 0x80808081)));
      return {};
    }).sb;
    assert.equal(hasBogusLiterals(plain), false);
    assert.equal(blockDetail(plain, 'auto').exactSub(Ty.I64), false);
  });

  it('no and yes: none exact, all exact (adds and subtracts of 32 and 64 bits)', () => {
    const { sb, t } = build((b) => {
      const a = b.binop('Add', reg(b, 0), reg(b, 1));
      b.put(gprOff(2), a);
      return { a };
    });
    const no = blockDetail(sb, 'no');
    assert.deepEqual([no.exactAdd(t.a, Ty.I64), no.exactSub(Ty.I64), no.exactCmpEq(Ty.I64)], [false, false, false]);
    const yes = blockDetail(sb, 'yes');
    assert.deepEqual([yes.exactAdd(t.a, Ty.I64), yes.exactSub(Ty.I32), yes.exactCmpEq(Ty.I8)], [true, true, true]);
    assert.equal(yes.exactSub(Ty.I16), false);
  });
});
