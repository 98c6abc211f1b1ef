/**
 * The block lifter: decodes guest instructions from an address and runs each one's semantics
 * into one IR superblock, until a control transfer, an instruction it does not cover, or the
 * size limit. Conditional branches become side exits and lifting goes on at the fall-through,
 * so a block is a superblock in VEX's sense. With `chase`, an unconditional direct jump does not
 * end the block either: lifting goes on at its target (VEX's guest_chase), unless the target is
 * the block's start (a loop the code generator runs in place) or already in the block.
 *
 * An instruction the tables or semantics do not cover ends the block before it (jump kind
 * Boring); when it is the block's first instruction the block is empty with jump kind NoDecode,
 * telling the engine to run that one instruction on Unicorn.
 */
import { Ty, IRSB } from '../ir';
import { LiftCtx } from './ctx';
import { decode, DecodeFailure, Insn, isFailure } from './decode';
import { ONE_BYTE, Slot, TWO_BYTE } from './tables';
import { INT_SEMANTICS, NOT_COVERED, Sem } from './sem-int';
import { SSE_SEMANTICS } from './sem-sse';
import { STRING_MNEMONICS, STRING_SEMANTICS } from './sem-string';

/** Every mnemonic's semantics. */
export const SEMANTICS: Readonly<Record<string, Sem>> = { ...INT_SEMANTICS, ...SSE_SEMANTICS, ...STRING_SEMANTICS };

/** Reads up to len bytes of guest code at addr (fewer at the end of a mapping; undefined if unmapped). */
export type CodeFetch = (addr: number, len: number) => Uint8Array | undefined;

export interface LiftOptions {
  /** Most guest instructions in one block (VEX uses 50). */
  maxInsns?: number;
  /** Go on lifting at the target of an unconditional direct jump (the block then covers several ranges). */
  chase?: boolean;
}

/** Decodes one instruction and says whether the lifter covers it. */
export function decodeCovered(bytes: Uint8Array, addr: number): Insn | DecodeFailure {
  const d = decode(bytes, addr);
  if (isFailure(d)) return d;
  if (!SEMANTICS[d.mnem] || NOT_COVERED[d.mnem]?.(d)) return { fail: 'unknown', len: d.len };
  return d;
}

/** Lifts the block starting at addr. */
export function liftBlock(fetch: CodeFetch, addr: number, opts: LiftOptions = {}): IRSB {
  const max = opts.maxInsns ?? 50;
  const c = new LiftCtx();
  const b = c.b;
  let pc = addr;
  let n = 0;
  // Instruction addresses lifted so far (for chasing: a jump back into the block ends it).
  const seen = opts.chase ? new Set<number>() : undefined;
  // Bytes from addr up to the first chased jump (-1: none chased yet).
  let firstLen = -1;
  const len = (): number => (firstLen >= 0 ? firstLen : pc - addr);
  for (;;) {
    const bytes = fetch(pc, 15);
    const d = bytes && bytes.length ? decodeCovered(bytes, pc) : { fail: 'truncated' as const };
    if (isFailure(d)) return b.finish(addr, b.c(Ty.I64, pc), n === 0 ? 'NoDecode' : 'Boring', n, len());
    // A rep-prefixed string instruction loops back to itself, so it must start its block.
    const repString = d.rep !== 0 && STRING_MNEMONICS.has(d.mnem);
    if (repString && n > 0) return b.finish(addr, b.c(Ty.I64, pc), 'Boring', n, len());
    seen?.add(pc);
    c.begin(d);
    SEMANTICS[d.mnem](c);
    c.commit();
    n++;
    pc += d.len;
    if (c.end) {
      const { next, jk } = c.end;
      const target = next.tag === 'const' ? Number(next.v) : -1;
      if (!seen || jk !== 'Boring' || target < 0 || target === addr || seen.has(target) || n >= max) {
        return b.finish(addr, next, jk, n, len());
      }
      if (firstLen < 0) firstLen = pc - addr;
      c.end = undefined;
      pc = target;
      continue;
    }
    if (n >= max) return b.finish(addr, b.c(Ty.I64, pc), 'Boring', n, len());
  }
}

/** Every mnemonic named in the opcode tables (to check that each has semantics). */
export function tableMnemonics(): Set<string> {
  const out = new Set<string>();
  const walk = (s: Slot | undefined): void => {
    if (s === undefined) return;
    if (typeof s === 'string') out.add(s.trim().split(/\s+/)[0]);
    else if ('pfx' in s) Object.values(s.pfx).forEach(walk);
    else if ('grp' in s) s.grp.forEach(walk);
    else { walk(s.mod3); walk(s.mem); }
  };
  for (const m of [ONE_BYTE, TWO_BYTE]) Object.values(m).forEach(walk);
  return out;
}

// A table entry without semantics would silently lift to NoDecode: refuse to load instead.
for (const m of tableMnemonics()) {
  if (!SEMANTICS[m]) throw new Error(`lifter: no semantics for table mnemonic "${m}"`);
}
