/**
 * Local variables and parameters of a stopped guest, through libdw (reference libdw.md §5): the
 * scopes containing a pc, split per inlined level as the stack shows them; each variable's type;
 * and where its value lives at that pc (memory, a register, a computed value, or pieces of
 * those), evaluated against one frame's registers and CFA.
 *
 * The reader keeps its own libdwfl session, mirroring the modules of the guest's DebugInfo: the
 * symbolizer's session is private to it, and variables are only read while a debugger is stopped.
 */
import { DwarfOp, evaluate, ExprEnv, ExprResult } from './dwarf-expr';
import type { ModuleInfo } from './debuginfo';
import { AT, children, cuDieAt, Die, hasAttr, flagAttr, locationAt, name, scopesAt, scopesOfDie, sdata, tag, TAG } from './dies';
import { CfiRules, FrameState, unwindStates } from './frame-states';
import { nativeView } from './libdw';
import { ModuleMap } from './modules';
import { CType, TypeCache } from './types';
import type { GuestMemory } from './unwind';

/** A variable or parameter visible at a pc. */
export interface ScopeVariable {
  name: string;
  parameter: boolean;
  type: CType;
  /** Its DIE, for locating it. */
  readonly die: Die;
}

/** One function instance at a pc: an inlined call or the physical function. */
export interface FunctionLevel {
  name: string | undefined;
  inlined: boolean;
  /** Parameters first, then locals (an inner block's name hides an outer one). */
  variables: ScopeVariable[];
  /** Module-relative pc used for location lists, and the module's load bias. */
  readonly rel: number;
  readonly bias: number;
  /** The physical subprogram, whose DW_AT_frame_base every level shares. */
  readonly subprogram: Die | undefined;
}

/** Where a value lives. */
export type Location =
  | { kind: 'memory'; address: number }
  | { kind: 'register'; regno: number }
  | { kind: 'value'; value: bigint }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'pieces'; pieces: { location: Location; size: number }[] }
  | { kind: 'unavailable'; reason: string };

const DW_OP_addr = 0x03;
const DW_OP_const8u = 0x0e;
const DW_OP_piece = 0x93;
const DW_OP_fbreg = 0x91;
const DW_OP_implicit_value = 0x9e;
const DW_OP_stack_value = 0x9f;

/** Reads variables of guest frames. */
export class VariableReader {
  private readonly map: ModuleMap;
  readonly cfi: CfiRules;
  readonly types = new TypeCache();
  private readonly levels = new Map<number, FunctionLevel[]>();

  /** @param source the guest's modules (a DebugInfo), mirrored into this reader's session. */
  constructor(private readonly source: { modules(): ModuleInfo[] }, debugInfoPath?: string) {
    this.map = new ModuleMap(debugInfoPath);
    this.cfi = new CfiRules(this.map);
  }

  /** Reports modules the guest gained and forgets those it lost since the last call. */
  sync(): void {
    const want = this.source.modules();
    const key = (m: { path: string; bias: number }): string => `${m.path}@${m.bias}`;
    const wanted = new Set(want.map(key));
    for (const m of this.map.all()) {
      if (!wanted.has(key(m))) {
        this.map.remove(m.bias);
        this.levels.clear();
      }
    }
    const have = new Set(this.map.all().map(key));
    for (const m of want) {
      if (have.has(key(m))) continue;
      try {
        this.map.report(m.path, m.bias);
      } catch {
        // An object libdw cannot read has no variables; its frames still show.
      }
    }
  }

  /** The thread's frames with their registers (see unwindStates). */
  frames(regs: BigUint64Array, mem: GuestMemory, maxFrames: number): FrameState[] {
    this.sync();
    return unwindStates(this.cfi, regs, mem, maxFrames);
  }

  /**
   * The function instances active at a frame's pc, innermost first, ending with the physical
   * function; empty without DWARF. `exact` is false for callers (their pc is a return address,
   * looked up at pc - 1 as the call instruction).
   */
  levelsAt(pc: number, exact: boolean): FunctionLevel[] {
    const addr = exact ? pc : pc - 1;
    const hit = this.levels.get(addr);
    if (hit) return hit;
    this.sync();
    const mod = this.map.find(addr);
    const found = mod ? this.computeLevels(mod.handle, addr) : [];
    this.levels.set(addr, found);
    return found;
  }

  private computeLevels(handle: bigint, addr: number): FunctionLevel[] {
    const cu = cuDieAt(handle, addr);
    if (!cu) return [];
    const rel = addr - cu.bias;
    const scopes = scopesAt(cu.cu, rel);
    const fnIndex = scopes.findIndex((d) => isFunction(tag(d)));
    if (fnIndex < 0) return [];
    // dwarf_getscopes leaves the physical nesting after the innermost inlined instance (it goes
    // on with the abstract definition); dwarf_getscopes_die of that instance gives the real chain.
    const chain = tag(scopes[fnIndex]) === TAG.subprogram ? scopes.slice(fnIndex) : scopesOfDie(scopes[fnIndex]);
    const groups: Die[][] = [[...scopes.slice(0, fnIndex), chain[0]]];
    let blocks: Die[] = [];
    for (const d of chain.slice(1)) {
      const t = tag(d);
      if (t === TAG.lexicalBlock) blocks.push(d);
      else if (isFunction(t)) {
        groups.push([...blocks, d]);
        blocks = [];
        if (t === TAG.subprogram) break;
      }
    }
    const subprogram = groups[groups.length - 1].find((d) => tag(d) === TAG.subprogram);
    return groups.map((g) => {
      const fn = g[g.length - 1];
      return { name: name(fn), inlined: tag(fn) === TAG.inlinedSubroutine, variables: this.variablesOf(g), rel, bias: cu.bias, subprogram };
    });
  }

  // Scope DIEs innermost first; variables listed outermost first so an inner name replaces an outer one.
  private variablesOf(scopes: Die[]): ScopeVariable[] {
    const byName = new Map<string, ScopeVariable>();
    for (const s of [...scopes].reverse()) {
      for (const c of children(s)) {
        const t = tag(c);
        if (t !== TAG.variable && t !== TAG.formalParameter) continue;
        if (flagAttr(c, AT.declaration)) continue; // `extern int x;` inside a function
        if (!hasAttr(c, AT.location) && !hasAttr(c, AT.constValue)) continue;
        const nm = name(c);
        if (nm === undefined) continue;
        byName.delete(nm);
        byName.set(nm, { name: nm, parameter: t === TAG.formalParameter, type: this.types.typeOf(c), die: c });
      }
    }
    const all = [...byName.values()];
    return [...all.filter((v) => v.parameter), ...all.filter((v) => !v.parameter)];
  }

  /**
   * The variables defined at file scope in the compilation unit of a frame's pc (globals and
   * file statics), as one level whose locations need no frame.
   */
  globalsAt(pc: number, exact: boolean): FunctionLevel | undefined {
    const addr = exact ? pc : pc - 1;
    this.sync();
    const mod = this.map.find(addr);
    const cu = mod ? cuDieAt(mod.handle, addr) : undefined;
    if (!cu) return undefined;
    return { name: undefined, inlined: false, variables: this.variablesOf([cu.cu]), rel: addr - cu.bias, bias: cu.bias, subprogram: undefined };
  }

  /** Where v lives in the given frame (the frame the level belongs to). */
  locate(v: ScopeVariable, level: FunctionLevel, frame: FrameState, mem: GuestMemory): Location {
    const ops = locationAt(v.die, AT.location, level.rel);
    if (ops === undefined) {
      const c = sdata(v.die, AT.constValue);
      return c === undefined ? { kind: 'unavailable', reason: 'no location' } : { kind: 'value', value: BigInt(c) };
    }
    if (ops.length === 0) return { kind: 'unavailable', reason: 'optimized out' };
    const env: ExprEnv = { reg: (r) => (r < frame.regs.length ? frame.regs[r] : NaN), readU64: (a) => mem.readU64(a), cfa: frame.cfa };
    let frameBase: number | undefined;
    const base = (): number => {
      if (frameBase === undefined) {
        const fbOps = level.subprogram ? locationAt(level.subprogram, AT.frameBase, level.rel) : undefined;
        const r = fbOps && fbOps.length ? evaluate(fbOps, env) : undefined;
        frameBase = r === undefined ? NaN : r.kind === 'memory' ? r.address : r.kind === 'value' ? r.value : env.reg(r.regno);
      }
      return frameBase;
    };
    const pieces = splitPieces(ops);
    if (pieces.length === 1 && pieces[0].size === undefined) return evalPiece(pieces[0].ops, env, base, level.bias);
    return { kind: 'pieces', pieces: pieces.map((p) => ({ location: evalPiece(p.ops, env, base, level.bias), size: p.size ?? 0 })) };
  }

  /** Ends the libdwfl session. */
  close(): void {
    this.map.close();
  }
}

function isFunction(t: number): boolean {
  return t === TAG.subprogram || t === TAG.inlinedSubroutine;
}

function splitPieces(ops: DwarfOp[]): { ops: DwarfOp[]; size: number | undefined }[] {
  const out: { ops: DwarfOp[]; size: number | undefined }[] = [];
  let cur: DwarfOp[] = [];
  for (const op of ops) {
    if (op.atom === DW_OP_piece) {
      out.push({ ops: cur, size: op.number });
      cur = [];
    } else {
      cur.push(op);
    }
  }
  if (cur.length || out.length === 0) out.push({ ops: cur, size: undefined });
  return out;
}

/** Evaluates one location expression (no pieces), with DW_OP_fbreg and relocated DW_OP_addr. */
function evalPiece(ops: DwarfOp[], env: ExprEnv, frameBase: () => number, bias: number): Location {
  if (ops.length === 0) return { kind: 'unavailable', reason: 'optimized out' };
  if (ops[0].atom === DW_OP_implicit_value) {
    const len = ops[0].number;
    const v = nativeView(BigInt(ops[0].number2), len);
    return { kind: 'bytes', bytes: new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + len)) };
  }
  let initial: number[] = [];
  let rest = ops;
  if (ops[0].atom === DW_OP_fbreg) {
    const fb = frameBase();
    if (Number.isNaN(fb)) return { kind: 'unavailable', reason: 'frame base unknown' };
    initial = [fb + ops[0].number];
    rest = ops.slice(1);
  }
  // DW_OP_addr holds the address in the file; the module may be loaded elsewhere.
  rest = rest.map((op) => (op.atom === DW_OP_addr ? { ...op, atom: DW_OP_const8u, number: op.number + bias } : op));
  const r: ExprResult | undefined = evaluate(rest, env, initial);
  if (!r) return { kind: 'unavailable', reason: describeFailure(rest) };
  if (r.kind === 'memory') return { kind: 'memory', address: r.address };
  if (r.kind === 'register') return { kind: 'register', regno: r.regno };
  return { kind: 'value', value: BigInt.asUintN(64, BigInt(Math.trunc(r.value))) };
}

function describeFailure(ops: DwarfOp[]): string {
  // Entry values (DW_OP_entry_value, GNU variant) need call-site parameters: not followed yet.
  if (ops.some((o) => o.atom === 0xa3 || o.atom === 0xf3)) return 'optimized out (entry value)';
  if (ops.some((o) => o.atom === DW_OP_stack_value)) return 'optimized out';
  return 'unavailable';
}

