/**
 * String instructions (movs, stos, lods, cmps, scas), with or without rep/repe/repne.
 *
 * As in VEX, a rep-prefixed instruction is lifted as one iteration in a block of its own: exit
 * to the next instruction when rcx is 0, do one step, decrement rcx, then leave to the next
 * instruction when the repetition ends and loop back to the instruction itself otherwise. The
 * engine's dispatcher runs the loop; each iteration is a complete guest state, so faults and
 * signals in the middle of a long copy are precise.
 */
import { CC } from '../flags';
import { OFF, RAX, RCX, RDI, RSI } from '../guest-state';
import { Atom, Ty, tyOfSize } from '../ir';
import type { LiftCtx } from './ctx';
import type { Sem } from './sem-int';

type StrKind = 'movs' | 'stos' | 'lods' | 'cmps' | 'scas';

/** The string instructions' mnemonics (the lifter gives rep-prefixed ones a block of their own). */
export const STRING_MNEMONICS: ReadonlySet<string> = new Set<StrKind>(['movs', 'stos', 'lods', 'cmps', 'scas']);

function stringOp(kind: StrKind): Sem {
  return (c: LiftCtx) => {
    const b = c.b;
    const insn = c.insn;
    // Even opcodes (a4, a6, aa, ac, ae) are the byte forms.
    const size = (insn.opcode & 1) === 0 ? 1 : insn.opsize;
    const ty = tyOfSize(size);
    const rep = insn.rep;
    let rcx: Atom | undefined;
    if (rep) {
      rcx = c.getGpr(RCX, 8);
      c.exitIf(b.binop('CmpEQ', rcx, c.c(Ty.I64, 0)), c.nextAddr);
    }
    // DFLAG is +1 or -1, so the step is DFLAG × size.
    const step = b.binop('Shl', c.get(OFF.DFLAG, Ty.I64), c.c(Ty.I8, Math.log2(size)));
    const rsi = kind === 'movs' || kind === 'lods' || kind === 'cmps' ? c.getGpr(RSI, 8) : undefined;
    const rdi = kind === 'lods' ? undefined : c.getGpr(RDI, 8);
    switch (kind) {
      case 'movs': c.store(rdi!, c.load(ty, rsi!)); break;
      case 'stos': c.store(rdi!, c.getGpr(RAX, size)); break;
      case 'lods': c.putGpr(RAX, c.load(ty, rsi!)); break;
      case 'cmps': c.setFlags('SUB', c.load(ty, rsi!), c.load(ty, rdi!)); break;
      case 'scas': c.setFlags('SUB', c.getGpr(RAX, size), c.load(ty, rdi!)); break;
    }
    if (rsi) c.putGpr(RSI, b.binop('Add', rsi, step));
    if (rdi) c.putGpr(RDI, b.binop('Add', rdi, step));
    if (!rep || !rcx) return;
    const left = b.binop('Sub', rcx, c.c(Ty.I64, 1));
    c.putGpr(RCX, left);
    let done = b.binop('CmpEQ', left, c.c(Ty.I64, 0));
    if (kind === 'cmps' || kind === 'scas') {
      // repe (F3) stops on a difference, repne (F2) on equality.
      const stop = c.cond(rep === 0xf3 ? CC.NZ : CC.Z);
      done = b.binop('Or', done, stop);
    }
    c.exitAfter(done, c.nextAddr);
    c.jump(c.c(Ty.I64, insn.addr));
  };
}

export const STRING_SEMANTICS: Record<string, Sem> = {
  movs: stringOp('movs'), stos: stringOp('stos'), lods: stringOp('lods'), cmps: stringOp('cmps'), scas: stringOp('scas'),
};
