/**
 * Block cleanups that keep guest state precise (VEX's iropt, the safe subset):
 *
 * - Put→Get forwarding and redundant Get removal: reading a register the block already read or
 *   wrote gives the known value, so `mov rax, 5; add rax, 1` folds to a constant and a register
 *   read twice is read once.
 * - Constant folding and the builder's identities, on the forwarded values.
 * - Common subexpressions: a pure operation computed again on the same operands reuses the first
 *   result (memcheck's instrumentation recomputes the same V bits of an address register for
 *   every access through it).
 * - Dead code: assignments whose temporaries are never used (loads stay: they may fault).
 * - Redundant Puts: a Put overwritten by a later Put of the same bytes is dropped, but only when
 *   no side exit, memory access or helper call lies between them. State is therefore exact
 *   wherever the block can be left (an exit, a fault, a helper that looks at it), and the
 *   flag thunk written by one ALU instruction and overwritten by the next costs nothing.
 */
import { foldOrSimplify } from './fold';
import { GUEST_STATE_BUFFER_SIZE } from './guest-state';
import { Atom, atomTy, Expr, exprAtoms, IRSB, mkConst, Stmt, Ty, tyBytes, tyMask } from './ir';

/** Optimises a block (returns a new one; the input is not changed). */
export function optimize(sb: IRSB): IRSB {
  return removeDead(forward(sb));
}

/** Forward pass: substitution of known values, forwarding of guest state, folding. */
function forward(sb: IRSB): IRSB {
  // Replacement of each temporary, by number (undefined: itself).
  const subst: (Atom | undefined)[] = new Array<Atom | undefined>(sb.tyenv.length);
  const known = new KnownState();
  const R = (a: Atom): Atom => (a.tag === 'tmp' ? subst[a.t] ?? a : a);
  const out: Stmt[] = [];
  const pure = new Map<string, Atom>();
  // The expression of each temporary kept, for narrowing a known wider value (undefined: a Get or unknown).
  const defs: (Expr | undefined)[] = new Array<Expr | undefined>(sb.tyenv.length);
  for (const s of sb.stmts) {
    switch (s.tag) {
      case 'wrtmp': {
        const e = rewrite(s.e, R);
        if (e.tag === 'get') {
          // The low part of a wider value the block wrote or read (`add eax, 1` after `mov rax, …`,
          // a 32-bit operation's zero-extended result read again by the next one) is that value narrowed.
          const w = known.wider(e.off, e.ty);
          const k = known.get(e.off, e.ty) ?? narrowed(w, e.ty, defs);
          if (k) { subst[s.t] = k; break; }
          if (w) {
            // The wider value stays the known one; the same narrowing again reuses this one.
            const ne: Expr = { tag: 'conv', op: 'Narrow', from: w.ty, to: e.ty, a: w.a };
            const key = pureKey(ne)!;
            const seen = pure.get(key);
            if (seen) { subst[s.t] = seen; break; }
            pure.set(key, { tag: 'tmp', t: s.t });
            out.push({ tag: 'wrtmp', t: s.t, e: ne });
            defs[s.t] = ne;
            break;
          }
          out.push({ tag: 'wrtmp', t: s.t, e });
          known.set(e.off, e.ty, { tag: 'tmp', t: s.t });
          break;
        }
        const folded = e.tag === 'tmp' || e.tag === 'const' ? e : foldOrSimplify(e, sb.tyenv);
        if (folded) { subst[s.t] = folded; break; }
        const key = pureKey(e);
        if (key !== undefined) {
          const seen = pure.get(key);
          if (seen) { subst[s.t] = seen; break; }
          pure.set(key, { tag: 'tmp', t: s.t });
        }
        out.push({ tag: 'wrtmp', t: s.t, e });
        defs[s.t] = e;
        break;
      }
      case 'put': {
        const a = R(s.a);
        const ty = atomTy(sb.tyenv, a);
        known.forget(s.off, tyBytes(ty));
        known.set(s.off, ty, a);
        out.push({ tag: 'put', off: s.off, a });
        break;
      }
      case 'store': out.push({ tag: 'store', addr: R(s.addr), data: R(s.data) }); break;
      case 'exit': {
        const guard = R(s.guard);
        if (guard.tag === 'const' && guard.v === 0n) break;
        out.push({ ...s, guard });
        break;
      }
      case 'dirty': out.push({ ...s, args: s.args.map(R), guard: s.guard && R(s.guard) }); break;
      case 'imark': out.push(s); break;
    }
  }
  known.clear();
  return { ...sb, stmts: out, next: R(sb.next) };
}

/** Widest value a guest-state access has (an xmm register). */
const MAX_ACCESS = 16;

/**
 * The guest-state values a block has read or written so far, by offset: arrays over the state
 * rather than a Map, so that a Put forgets what it overlaps with a few probes (a Put happens for
 * every register write and its shadow). Shared by all blocks and cleared after each.
 */
class KnownState {
  private static readonly ty = new Uint8Array(GUEST_STATE_BUFFER_SIZE);
  private static readonly atom: (Atom | undefined)[] = new Array<Atom | undefined>(GUEST_STATE_BUFFER_SIZE).fill(undefined);
  private readonly used: number[] = [];

  /** The known value of the access (off, ty), if any. */
  get(off: number, ty: Ty): Atom | undefined {
    return KnownState.ty[off] === ty ? KnownState.atom[off] : undefined;
  }

  /** The known value of a wider access at the same offset (its low bytes hold (off, ty)), if any. */
  wider(off: number, ty: Ty): { ty: Ty; a: Atom } | undefined {
    const t = KnownState.ty[off] as Ty;
    const a = KnownState.atom[off];
    return t > ty && a !== undefined ? { ty: t, a } : undefined;
  }

  set(off: number, ty: Ty, a: Atom): void {
    KnownState.ty[off] = ty;
    KnownState.atom[off] = a;
    this.used.push(off);
  }

  /** Forgets every known access overlapping [off, off+len). */
  forget(off: number, len: number): void {
    const T = KnownState.ty;
    for (let o = Math.max(0, off - MAX_ACCESS + 1); o < off + len; o++) {
      const t = T[o];
      if (t !== 0 && o + tyBytes(t) > off) {
        T[o] = 0;
        KnownState.atom[o] = undefined;
      }
    }
  }

  clear(): void {
    for (const o of this.used) {
      KnownState.ty[o] = 0;
      KnownState.atom[o] = undefined;
    }
    this.used.length = 0;
  }
}

/**
 * The low `ty` bits of a known wider value without a new operation: a constant's low bits, or
 * x when the value is x zero- or sign-extended from `ty`.
 */
function narrowed(w: { ty: Ty; a: Atom } | undefined, ty: Ty, defs: readonly (Expr | undefined)[]): Atom | undefined {
  if (!w) return undefined;
  if (w.a.tag === 'const') return mkConst(ty, w.a.v & tyMask(ty));
  const d = defs[w.a.t];
  return d?.tag === 'conv' && (d.op === 'ZExt' || d.op === 'SExt') && d.from === ty ? d.a : undefined;
}

const atomKey = (a: Atom): string => (a.tag === 'tmp' ? `t${a.t}` : `${a.ty}:${a.v}`);

/** A key naming a pure expression by operation and operands (undefined for loads and gets). */
function pureKey(e: Expr): string | undefined {
  switch (e.tag) {
    case 'unop': return `u ${e.op} ${e.ty} ${atomKey(e.a)}`;
    case 'conv': return `c ${e.op} ${e.from} ${e.to} ${atomKey(e.a)}`;
    case 'binop': return `b ${e.op} ${e.ty} ${atomKey(e.a)} ${atomKey(e.b)}`;
    case 'ite': return `i ${atomKey(e.cond)} ${atomKey(e.t)} ${atomKey(e.f)}`;
    case 'ccall': return `h ${e.fn} ${e.args.map(atomKey).join(' ')}`;
    default: return undefined;
  }
}

function rewrite(e: Expr, R: (a: Atom) => Atom): Expr {
  // A new node only when an operand changes (most do not).
  switch (e.tag) {
    case 'tmp': case 'const': return R(e);
    case 'get': return e;
    case 'load': { const addr = R(e.addr); return addr === e.addr ? e : { ...e, addr }; }
    case 'unop': case 'conv': { const a = R(e.a); return a === e.a ? e : { ...e, a }; }
    case 'binop': {
      const a = R(e.a);
      const b = R(e.b);
      return a === e.a && b === e.b ? e : { ...e, a, b };
    }
    case 'ite': {
      const cond = R(e.cond);
      const t = R(e.t);
      const f = R(e.f);
      return cond === e.cond && t === e.t && f === e.f ? e : { ...e, cond, t, f };
    }
    case 'ccall': return { ...e, args: e.args.map(R) };
  }
}

const OVERWRITTEN = new Uint32Array(GUEST_STATE_BUFFER_SIZE);
let stamp = 0;

/** Backward pass: dead temporaries and overwritten Puts. */
function removeDead(sb: IRSB): IRSB {
  const live = new Set<number>();
  const use = (a: Atom): void => { if (a.tag === 'tmp') live.add(a.t); };
  // Per byte of guest (and shadow) state: overwritten later before anything can observe it,
  // when its stamp is the current one. A barrier starts a new stamp instead of clearing the
  // array (blocks have a barrier at every memory access and helper call).
  const overwritten = OVERWRITTEN;
  if (stamp >= 0xfffffff0) { overwritten.fill(0); stamp = 0; }
  const barrier = (): void => { stamp++; };
  barrier();
  use(sb.next);
  const kept: Stmt[] = [];
  for (let i = sb.stmts.length - 1; i >= 0; i--) {
    const s = sb.stmts[i];
    switch (s.tag) {
      case 'wrtmp': {
        const isLoad = s.e.tag === 'load';
        if (!live.has(s.t) && !isLoad) continue;
        if (s.e.tag === 'get') overwritten.fill(0, s.e.off, s.e.off + tyBytes(s.e.ty));
        if (isLoad) barrier();
        exprAtoms(s.e).forEach(use);
        kept.push(s);
        break;
      }
      case 'put': {
        const n = tyBytes(atomTy(sb.tyenv, s.a));
        let dead = true;
        for (let k = s.off; k < s.off + n; k++) if (overwritten[k] !== stamp) { dead = false; break; }
        overwritten.fill(stamp, s.off, s.off + n);
        if (dead) continue;
        use(s.a);
        kept.push(s);
        break;
      }
      case 'store': barrier(); use(s.addr); use(s.data); kept.push(s); break;
      case 'exit': barrier(); use(s.guard); kept.push(s); break;
      case 'dirty': barrier(); s.args.forEach(use); if (s.guard) use(s.guard); kept.push(s); break;
      case 'imark': kept.push(s); break;
    }
  }
  kept.reverse();
  return { ...sb, stmts: kept };
}
