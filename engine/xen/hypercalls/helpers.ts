/** Shorthands that keep the declaration tables one line per fact. */

import { CType } from '../layouts/ctypes';
import { Release } from '../layouts/releases';
import { BufDecl, Case, Count, Path, Rule, SubOp, Root } from './decl';

/** IN members. */
export const IN = (...p: Path[]): Rule => ({ in: p });
/** OUT members. */
export const OUT = (...p: Path[]): Rule => ({ out: p });
/** IN/OUT members. */
export const INOUT = (...p: Path[]): Rule => ({ inout: p });
/** A buffer behind a handle/argument. */
export const BUF = (b: BufDecl): Rule => ({ buf: b });
/** A selector with named cases. */
export function SELECT(on: Path, cases: Record<number, Case | [string, Rule[]]>, ignoreUnknown = false): Rule {
  const out: Record<number, Case> = {};
  for (const [k, v] of Object.entries(cases)) out[Number(k)] = Array.isArray(v) ? { name: v[0], rules: v[1] } : v;
  return { select: on, cases: out, ignoreUnknown };
}
/** Rules applying when `(on & mask) != 0`. */
export const WHEN = (on: Path, mask: number, then: Rule[]): Rule => ({ when: on, mask, then });

/**
 * A `xenctl_bitmap` (or pre-4.3 `xenctl_cpumap`) the hypervisor reads (`dir` in) or fills
 * (`dir` out): the descriptor is IN either way, the bits go the stated way. Both spellings of
 * the size member are listed; the one absent from a release is skipped.
 */
export function bitmap(name: string, dir: 'in' | 'out' | 'inout'): Rule[] {
  return [
    IN(`${name}.bitmap`, `${name}.nr_bits`, `${name}.nr_cpus`),
    BUF({ ptr: `${name}.bitmap`, elem: 1, count: { bits: `${name}.nr_bits` }, dir }),
    BUF({ ptr: `${name}.bitmap`, elem: 1, count: { bits: `${name}.nr_cpus` }, dir }),
  ];
}

/** An array behind a handle. */
export function arrayOf(ptr: Path, elem: CType | number, count: Count, dir: BufDecl['dir'], extra: Partial<BufDecl> = {}): Rule {
  return BUF({ ptr, elem, count, dir, ...extra });
}

/** A sub-op. */
export function op(name: string, value: number, rules: Rule[], opts: { member?: string; root?: Root; since?: Release; until?: Release; envOut?: Path[] } = {}): SubOp {
  return { name, value, rules, ...opts };
}
