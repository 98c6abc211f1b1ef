/**
 * What a stopped frame shows: its locals and parameters (DWARF, decoded by type, definedness from
 * memcheck), its registers, and C-like expressions over them for the debug console and hovers
 * (`p`, `p->next->value`, `arr[3]`, `*q`, `&x`, `s.field`, `$rax`).
 */
import { X86 } from '../engine/cpu/x86-const';
import type { FrameState } from '../engine/debuginfo/frame-states';
import { ATE, CType, resolved } from '../engine/debuginfo/types';
import type { FunctionLevel, Location, ScopeVariable, VariableReader } from '../engine/debuginfo/variables';
import type { GuestProcess } from '../engine/process/guest-process';
import { memoryReader, RuntimeFrame } from './stack';
import { definedBytes, GuestView, ObjectBytes, RuntimeVariable, slice, ValueFormatter } from './values';

const REG_NAMES = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];
/** Registers in the order debuggers list them, by DWARF number. */
const SHOWN_ORDER = [0, 3, 2, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const EFLAGS_BITS: Array<[number, string]> = [[0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF']];

/** Registers print in hex, as debuggers show them. */
const REGISTER: CType = { kind: 'base', name: 'uint64_t', size: 8, encoding: ATE.address };
const LONG: CType = { kind: 'base', name: 'long', size: 8, encoding: ATE.signed };

/** An evaluated expression: its type and bytes. */
interface Value { type: CType; obj: ObjectBytes }

/** An expression the console cannot evaluate. */
export class EvaluationError extends Error {}

export class FrameValues {
  private readonly fmt: ValueFormatter;

  constructor(private readonly proc: GuestProcess, private readonly vars: VariableReader, private readonly guest: GuestView,
    /** Whether the frame is the current thread's innermost physical frame (its registers are exact). */
    private readonly isLiveTop: (f: RuntimeFrame) => boolean) {
    this.fmt = new ValueFormatter(guest);
  }

  /** The function instance a frame shows (an inlined level or the physical function). */
  private level(f: RuntimeFrame): FunctionLevel | undefined {
    if (!f.state) return undefined;
    const levels = this.vars.levelsAt(f.state.pc, f.state.exact);
    return levels[f.level] ?? levels[levels.length - 1];
  }

  /** Locals and parameters of a frame; empty without DWARF or without a live frame. */
  locals(f: RuntimeFrame): RuntimeVariable[] {
    const level = this.level(f);
    if (!level || !f.state) return [];
    return level.variables.map((v) => this.variable(v, level, f));
  }

  private variable(v: ScopeVariable, level: FunctionLevel, f: RuntimeFrame): RuntimeVariable {
    const state = f.state as FrameState;
    const loc = this.vars.locate(v, level, state, memoryReader(this.proc));
    const obj = this.read(loc, v.type.size, f);
    if (typeof obj === 'string') return { name: v.name, value: `<${obj}>`, type: v.type.name, evaluateName: v.name };
    return this.fmt.variable(v.name, v.type, obj, v.name);
  }

  /** The bytes at a location, or why there are none. */
  private read(loc: Location, size: number, f: RuntimeFrame): ObjectBytes | string {
    switch (loc.kind) {
      case 'memory': return this.guest.read(loc.address, size);
      case 'register': {
        const b = this.registerBytes(loc.regno, f);
        return b ? definedBytes(b.subarray(0, size)) : 'not saved in this frame';
      }
      case 'value': return definedBytes(leBytes(loc.value, size));
      case 'bytes': return definedBytes(loc.bytes.subarray(0, size));
      case 'unavailable': return loc.reason;
      case 'pieces': {
        const parts: ObjectBytes[] = [];
        for (const p of loc.pieces) {
          const r = this.read(p.location, p.size, f);
          // A missing piece reads as undefined bytes rather than hiding the whole value.
          parts.push(typeof r === 'string' ? { bytes: new Uint8Array(p.size), vbits: new Uint8Array(p.size).fill(0xff), noaccess: new Uint8Array(p.size) } : r);
        }
        return concat(parts, size);
      }
    }
  }

  /** A DWARF register's bytes in a frame: exact from the CPU for the live top frame, unwound for callers. */
  private registerBytes(regno: number, f: RuntimeFrame): Uint8Array | undefined {
    if (this.isLiveTop(f)) {
      if (regno < 17) return leBytes(this.proc.uc.reg_read(REG_IDS[regno]), 8);
      if (regno >= 17 && regno <= 32) return this.proc.uc.reg_read_bytes(X86.XMM0 + regno - 17, 16).slice();
      return undefined;
    }
    const v = f.state?.regs[regno];
    return v === undefined || Number.isNaN(v) ? undefined : leBytes(BigInt.asUintN(64, BigInt(v)), 8);
  }

  /** The Registers scope: general registers, rip with its symbol, eflags, segment bases. */
  registers(f: RuntimeFrame): RuntimeVariable[] {
    const out: RuntimeVariable[] = [];
    const live = this.isLiveTop(f);
    for (const r of SHOWN_ORDER) {
      const b = this.registerBytes(r, f);
      const name = REG_NAMES[r];
      if (!b) { out.push({ name, value: '<not saved>', type: 'uint64' }); continue; }
      const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
      const text = r === 16 ? `0x${v.toString(16)}${this.symbolText(Number(v))}` : `0x${v.toString(16)}`;
      out.push({ name, value: text, type: 'uint64', evaluateName: `$${name}` });
    }
    if (live) {
      const fl = Number(this.proc.uc.reg_read(X86.EFLAGS));
      const set = EFLAGS_BITS.filter(([bit]) => fl & (1 << bit)).map(([, n]) => n);
      out.push({ name: 'eflags', value: `0x${fl.toString(16)} [ ${set.join(' ')} ]`, type: 'uint32', evaluateName: '$eflags' });
      for (const [name, id] of [['fs_base', X86.FS_BASE], ['gs_base', X86.GS_BASE]] as const) {
        out.push({ name, value: `0x${this.proc.uc.reg_read(id).toString(16)}`, type: 'uint64', evaluateName: `$${name}` });
      }
      out.push({
        name: 'sse', value: 'xmm0-xmm15', children: () => Array.from({ length: 16 }, (_, i) => {
          const b = this.proc.uc.reg_read_bytes(X86.XMM0 + i, 16);
          return { name: `xmm${i}`, value: `0x${Buffer.from(b).reverse().toString('hex')}`, type: 'uint128' };
        }),
      });
    }
    return out;
  }

  private symbolText(pc: number): string {
    const s = this.guest.symbol(pc);
    return s ? ` <${s}>` : '';
  }

  /** Evaluates a C-like expression in a frame. */
  evaluate(expr: string, f: RuntimeFrame | undefined): RuntimeVariable {
    const steps: Steps = {
      lookup: (name) => this.lookup(name, f),
      member: (v, name, arrow) => this.member(v, name, arrow),
      index: (v, i) => this.index(v, i),
      deref: (v) => this.deref(v),
      addressOf: (v) => this.addressOf(v),
    };
    const v = new Parser(expr, steps).parse();
    return this.fmt.variable(expr, v.type, v.obj, expr);
  }

  private lookup(name: string, f: RuntimeFrame | undefined): Value {
    if (name.startsWith('$')) {
      const reg = name.slice(1);
      const i = REG_NAMES.indexOf(reg);
      if (f && i >= 0) {
        const b = this.registerBytes(i, f);
        if (!b) throw new EvaluationError(`${name} is not saved in this frame`);
        return { type: REGISTER, obj: definedBytes(b) };
      }
      const extra: Record<string, number> = { eflags: X86.EFLAGS, fs_base: X86.FS_BASE, gs_base: X86.GS_BASE };
      if (extra[reg] !== undefined) return { type: REGISTER, obj: definedBytes(leBytes(this.proc.uc.reg_read(extra[reg]), 8)) };
      throw new EvaluationError(`no register ${name}`);
    }
    let level = f && this.level(f);
    let v = level?.variables.find((x) => x.name === name);
    if (!v && f?.state) {
      // Not a local: a global or file static of the frame's compilation unit.
      level = this.vars.globalsAt(f.state.pc, f.state.exact);
      v = level?.variables.find((x) => x.name === name);
    }
    if (!v || !level || !f) throw new EvaluationError(`no variable "${name}" in this frame`);
    const obj = this.read(this.vars.locate(v, level, f.state as FrameState, memoryReader(this.proc)), v.type.size, f);
    if (typeof obj === 'string') throw new EvaluationError(`${name}: ${obj}`);
    return { type: v.type, obj };
  }

  // Member, index and dereference steps of the expression language.

  /** `e.name` and, through a pointer, `e->name`. */
  private member(v: Value, name: string, arrow: boolean): Value {
    const base = arrow ? this.deref(v) : v;
    const r = resolved(base.type);
    if (r.kind !== 'struct' && r.kind !== 'union') throw new EvaluationError(`not a struct or union: ${base.type.name}`);
    const m = r.members.find((x) => x.name === name);
    if (!m) throw new EvaluationError(`${base.type.name} has no member ${name}`);
    return { type: m.type, obj: slice(base.obj, m.offset, m.type.size) };
  }

  /** `e[i]` on arrays and pointers. */
  private index(v: Value, i: number): Value {
    const r = resolved(v.type);
    if (r.kind === 'array') {
      if (r.count !== undefined && (i < 0 || i >= r.count)) throw new EvaluationError(`index ${i} out of bounds [0, ${r.count})`);
      return { type: r.element, obj: slice(v.obj, i * r.element.size, r.element.size) };
    }
    if (r.kind === 'pointer') {
      const t = r.target();
      if (!t || t.size === 0) throw new EvaluationError(`cannot index ${v.type.name}`);
      return { type: t, obj: this.guest.read(pointerValue(v) + i * t.size, t.size) };
    }
    throw new EvaluationError(`cannot index ${v.type.name}`);
  }

  /** `*e`. */
  private deref(v: Value): Value {
    const r = resolved(v.type);
    if (r.kind === 'array') return { type: r.element, obj: slice(v.obj, 0, r.element.size) };
    if (r.kind !== 'pointer') throw new EvaluationError(`not a pointer: ${v.type.name}`);
    const t = r.target();
    if (!t || t.size === 0) throw new EvaluationError(`cannot dereference ${v.type.name}`);
    return { type: t, obj: this.guest.read(pointerValue(v), t.size) };
  }

  /** `&e`. */
  private addressOf(v: Value): Value {
    if (v.obj.address === undefined) throw new EvaluationError('not in memory (a register or computed value)');
    const t: CType = { kind: 'pointer', name: `${v.type.name} *`, size: 8, target: () => v.type };
    return { type: t, obj: definedBytes(leBytes(BigInt(v.obj.address), 8)) };
  }
}

const REG_IDS = [X86.RAX, X86.RDX, X86.RCX, X86.RBX, X86.RSI, X86.RDI, X86.RBP, X86.RSP, X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15, X86.RIP];

function pointerValue(v: Value): number {
  if (v.obj.noaccess.some((b) => b)) throw new EvaluationError('the pointer itself is unaddressable');
  if (v.obj.vbits.some((b) => b)) throw new EvaluationError('the pointer is (partly) uninitialised');
  return Number(new DataView(v.obj.bytes.buffer, v.obj.bytes.byteOffset, 8).getBigUint64(0, true));
}

function leBytes(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = BigInt.asUintN(64, v);
  for (let i = 0; i < size && i < 8; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

function concat(parts: ObjectBytes[], size: number): ObjectBytes {
  const out = { bytes: new Uint8Array(size), vbits: new Uint8Array(size), noaccess: new Uint8Array(size) };
  let off = 0;
  for (const p of parts) {
    const n = Math.min(p.bytes.length, size - off);
    out.bytes.set(p.bytes.subarray(0, n), off);
    out.vbits.set(p.vbits.subarray(0, n), off);
    out.noaccess.set(p.noaccess.subarray(0, n), off);
    off += n;
  }
  return out;
}

/** The operations an expression is built from. */
interface Steps {
  lookup(name: string): Value;
  member(v: Value, name: string, arrow: boolean): Value;
  index(v: Value, i: number): Value;
  deref(v: Value): Value;
  addressOf(v: Value): Value;
}

/**
 * The console's expression language, parsed and evaluated in one pass:
 *   expr    := '*' expr | '&' expr | postfix
 *   postfix := primary ( '.' ident | '->' ident | '[' expr ']' )*
 *   primary := ident | '$' ident | number | '(' expr ')'
 */
class Parser {
  private pos = 0;

  constructor(private readonly text: string, private readonly steps: Steps) {}

  parse(): Value {
    const v = this.expr();
    this.skip();
    if (this.pos < this.text.length) throw new EvaluationError(`unexpected "${this.text.slice(this.pos)}"`);
    return v;
  }

  private expr(): Value {
    this.skip();
    if (this.eat('*')) return this.steps.deref(this.expr());
    if (this.eat('&')) return this.steps.addressOf(this.expr());
    return this.postfix();
  }

  private postfix(): Value {
    let v = this.primary();
    for (;;) {
      this.skip();
      if (this.eat('->')) v = this.steps.member(v, this.ident(), true);
      else if (this.eat('.')) v = this.steps.member(v, this.ident(), false);
      else if (this.eat('[')) {
        const i = integerOf(this.expr());
        this.skip();
        if (!this.eat(']')) throw new EvaluationError('missing ]');
        v = this.steps.index(v, i);
      } else return v;
    }
  }

  private primary(): Value {
    this.skip();
    if (this.eat('(')) {
      const v = this.expr();
      this.skip();
      if (!this.eat(')')) throw new EvaluationError('missing )');
      return v;
    }
    const num = /^(0x[0-9a-f]+|\d+)/i.exec(this.text.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return { type: LONG, obj: definedBytes(leBytes(BigInt(num[0]), 8)) };
    }
    const dollar = this.eat('$') ? '$' : '';
    return this.steps.lookup(dollar + this.ident());
  }

  private ident(): string {
    this.skip();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    if (!m) throw new EvaluationError(`expected a name at "${this.text.slice(this.pos)}"`);
    this.pos += m[0].length;
    return m[0];
  }

  private eat(tok: string): boolean {
    if (!this.text.startsWith(tok, this.pos)) return false;
    this.pos += tok.length;
    return true;
  }

  private skip(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
}

/** An index value: a defined integer. */
function integerOf(v: Value): number {
  const r = resolved(v.type);
  if (r.kind !== 'base' && r.kind !== 'enum') throw new EvaluationError(`not an integer: ${v.type.name}`);
  if (v.obj.vbits.some((b) => b)) throw new EvaluationError('the index is (partly) uninitialised');
  let x = 0n;
  for (let i = v.obj.bytes.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(v.obj.bytes[i]);
  return Number(BigInt.asIntN(v.obj.bytes.length * 8, x));
}
