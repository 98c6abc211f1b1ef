/**
 * Values decoded by their C type, each with its definedness: memcheck's V bits say which bits of
 * a value are uninitialised, so a value shows `<uninitialised>` when all its bits are, and the
 * undefined-bit mask when only some are — something no other debugger can show. Pointers into
 * the heap say which block they point into ("16 bytes inside a block of 40 alloc'd at list.c:12").
 */
import { ATE, CType, Member, resolved } from '../engine/debuginfo/types';

/** A variable as the runtime hands it out (no DAP types). */
export interface RuntimeVariable {
  name: string;
  value: string;
  type?: string;
  /** An expression that evaluates to this variable in the frame. */
  evaluateName?: string;
  /** Address of the object, for memory views. */
  memoryReference?: string;
  children?: () => RuntimeVariable[];
}

/** The bytes of an object with memcheck's view of them (same length each). */
export interface ObjectBytes {
  bytes: Uint8Array;
  /** V bits: a 1 bit is undefined. */
  vbits: Uint8Array;
  /** 1 for a byte that is not addressable (or not mapped). */
  noaccess: Uint8Array;
  /** Where the object lives in guest memory (absent for registers and computed values). */
  address?: number;
}

/** What value decoding needs from the guest. */
export interface GuestView {
  read(addr: number, len: number): ObjectBytes;
  /** A short description of the heap block addr points into, if any. */
  describe(addr: number): string | undefined;
  /** The function at addr, for function pointers. */
  symbol(addr: number): string | undefined;
}

/** Array elements listed at most (VS Code pages through large arrays poorly without indexing). */
const MAX_ELEMENTS = 1000;
const MAX_STRING = 200;
const PREVIEW_ITEMS = 6;

/** Bytes of a value known only as a register or computed result: all defined, all addressable. */
export function definedBytes(bytes: Uint8Array): ObjectBytes {
  return { bytes, vbits: new Uint8Array(bytes.length), noaccess: new Uint8Array(bytes.length) };
}

/** The sub-object [offset, offset+size) of an object. */
export function slice(o: ObjectBytes, offset: number, size: number): ObjectBytes {
  const s: ObjectBytes = {
    bytes: o.bytes.subarray(offset, offset + size), vbits: o.vbits.subarray(offset, offset + size),
    noaccess: o.noaccess.subarray(offset, offset + size),
  };
  if (o.address !== undefined) s.address = o.address + offset;
  return s;
}

function le(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** An undefined-bit mask as wide as the value: "0x0000ff00" for a 4-byte int with its second byte undefined. */
function maskText(mask: bigint, bytes: number): string {
  return `0x${mask.toString(16).padStart(bytes * 2, '0')}`;
}

/** Decodes objects of C types against a guest. */
export class ValueFormatter {
  constructor(private readonly guest: GuestView) {}

  /** A named variable of type t whose bytes are o. */
  variable(name: string, t: CType, o: ObjectBytes, evaluateName: string | undefined): RuntimeVariable {
    const v: RuntimeVariable = { name, value: this.value(t, o), type: t.name };
    if (evaluateName !== undefined) v.evaluateName = evaluateName;
    if (o.address !== undefined) v.memoryReference = hex(o.address);
    const children = this.children(t, o, evaluateName);
    if (children) v.children = children;
    return v;
  }

  /** The one-line rendering of an object. */
  value(t: CType, o: ObjectBytes): string {
    const r = resolved(t);
    if (r.kind === 'struct' || r.kind === 'union') return this.aggregatePreview(r.members, o);
    if (r.kind === 'array') return this.arrayPreview(r.element, r.count, o);
    if (r.kind === 'void') return '<void>';
    if (r.kind === 'function') return o.address !== undefined ? `${hex(o.address)} <${this.guest.symbol(o.address) ?? 'function'}>` : 'function';
    const state = definedness(o);
    if (state.noaccess) return '<unaddressable>';
    if (state.allUndefined) return '<uninitialised>';
    const text = this.scalar(r, o);
    return state.mask === 0n ? text : `${text} <undefined bits ${maskText(state.mask, o.bytes.length)}>`;
  }

  private scalar(t: Exclude<CType, { kind: 'typedef' }>, o: ObjectBytes): string {
    const raw = le(o.bytes);
    switch (t.kind) {
      case 'pointer': return this.pointer(t, Number(raw));
      case 'enum': {
        const n = Number(t.signed ? BigInt.asIntN(o.bytes.length * 8, raw) : raw);
        return t.values.get(n) ?? String(n);
      }
      case 'base': return baseValue(t.encoding, o.bytes, raw);
      default: return hex(raw);
    }
  }

  private pointer(t: Extract<CType, { kind: 'pointer' }>, p: number): string {
    if (p === 0) return '0x0';
    const target = resolved(t.target() ?? { kind: 'void', name: 'void', size: 0 });
    if (target.kind === 'function') return `${hex(p)} <${this.guest.symbol(p) ?? '???'}>`;
    const where = this.guest.describe(p);
    const text = where ? `${hex(p)} (${where})` : hex(p);
    if (target.kind === 'base' && target.size === 1 && isCharEncoding(target.encoding)) {
      const str = this.cString(p);
      return str ? `${hex(p)} ${str}${where ? ` (${where})` : ''}` : text;
    }
    return text;
  }

  /**
   * The C string at p, escaped, with a note when it runs into unaddressable or undefined bytes;
   * undefined when not even its first byte is addressable.
   */
  private cString(p: number): string | undefined {
    const o = this.guest.read(p, MAX_STRING);
    let s = '"';
    let undef = false;
    let end = 'truncated';
    for (let i = 0; i < o.bytes.length; i++) {
      if (o.noaccess[i]) { end = i === 0 ? 'unaddressable' : 'runs into unaddressable memory'; break; }
      if (o.vbits[i]) undef = true;
      const c = o.bytes[i];
      if (c === 0) { end = ''; break; }
      s += escapeChar(c);
    }
    if (end === 'unaddressable') return undefined;
    s += '"';
    if (end === 'truncated') s += '...';
    else if (end) s += ` <${end}>`;
    return `${s}${undef ? ' <has uninitialised bytes>' : ''}`;
  }

  private aggregatePreview(members: Member[], o: ObjectBytes): string {
    const st = definedness(o);
    if (st.noaccess && o.noaccess.every((b) => b)) return '<unaddressable>';
    if (st.allUndefined) return '{...} <uninitialised>';
    const parts = members.slice(0, PREVIEW_ITEMS).map((m) => `${m.name} = ${this.memberValue(m, o)}`);
    return `{${parts.join(', ')}${members.length > PREVIEW_ITEMS ? ', ...' : ''}}`;
  }

  private arrayPreview(element: CType, count: number | undefined, o: ObjectBytes): string {
    const el = resolved(element);
    if (el.kind === 'base' && el.size === 1 && isCharEncoding(el.encoding)) {
      const n = Math.min(count ?? 0, MAX_STRING);
      let s = '"';
      let undef = false;
      for (let i = 0; i < n; i++) {
        if (o.noaccess[i]) return '<unaddressable>';
        if (o.vbits[i]) undef = true;
        if (o.bytes[i] === 0) break;
        s += escapeChar(o.bytes[i]);
      }
      if (definedness(slice(o, 0, n)).allUndefined && n > 0) return '<uninitialised>';
      return `${s}"${undef ? ' <has uninitialised bytes>' : ''}`;
    }
    const n = Math.min(count ?? 0, PREVIEW_ITEMS);
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(this.value(element, slice(o, i * element.size, element.size)));
    return `{${items.join(', ')}${(count ?? 0) > n ? ', ...' : ''}}`;
  }

  private memberValue(m: Member, o: ObjectBytes): string {
    if (m.bitSize === undefined) return this.value(m.type, slice(o, m.offset, m.type.size));
    const b = bitField(m, o);
    if (b.noaccess) return '<unaddressable>';
    if (b.undef === b.fullMask) return '<uninitialised>';
    return b.undef === 0n ? String(b.value) : `${b.value} <undefined bits ${maskText(b.undef, Math.ceil((m.bitSize ?? 8) / 8))}>`;
  }

  private children(t: CType, o: ObjectBytes, evalName: string | undefined): (() => RuntimeVariable[]) | undefined {
    const r = resolved(t);
    const sub = (suffix: string): string | undefined => (evalName === undefined ? undefined : `${evalName}${suffix}`);
    if (r.kind === 'struct' || r.kind === 'union') {
      if (r.members.length === 0) return undefined;
      return () => r.members.map((m) => this.member(m, o, sub(`.${m.name}`)));
    }
    if (r.kind === 'array') {
      const n = Math.min(r.count ?? 0, MAX_ELEMENTS);
      if (n === 0) return undefined;
      return () => {
        const out: RuntimeVariable[] = [];
        for (let i = 0; i < n; i++) out.push(this.variable(`[${i}]`, r.element, slice(o, i * r.element.size, r.element.size), sub(`[${i}]`)));
        return out;
      };
    }
    if (r.kind === 'pointer') {
      const st = definedness(o);
      if (st.noaccess || st.allUndefined) return undefined;
      const p = Number(le(o.bytes));
      const target = r.target();
      const tr = target ? resolved(target) : undefined;
      if (p === 0 || !target || !tr || tr.kind === 'void' || tr.kind === 'function' || target.size === 0) return undefined;
      if (tr.kind === 'base' && tr.size === 1 && isCharEncoding(tr.encoding)) return undefined; // shown as a string
      const deref = evalName === undefined ? undefined : `(*${evalName})`;
      if (tr.kind === 'struct' || tr.kind === 'union') {
        // As other C debuggers do, a struct pointer opens onto the struct's members.
        return () => {
          const pointee = this.guest.read(p, target.size);
          return tr.members.map((m) => this.member(m, pointee, evalName === undefined ? undefined : `${evalName}->${m.name}`));
        };
      }
      return () => [this.variable(`*${evalName ?? 'p'}`, target, this.guest.read(p, target.size), deref)];
    }
    return undefined;
  }

  private member(m: Member, o: ObjectBytes, evalName: string | undefined): RuntimeVariable {
    if (m.bitSize === undefined) return this.variable(m.name, m.type, slice(o, m.offset, m.type.size), evalName);
    const v: RuntimeVariable = { name: m.name, value: this.memberValue(m, o), type: `${m.type.name} : ${m.bitSize}` };
    if (evalName !== undefined) v.evaluateName = evalName;
    return v;
  }
}

/** Whether an object is unaddressable, wholly undefined, and its undefined-bit mask (little-endian). */
export function definedness(o: ObjectBytes): { noaccess: boolean; allUndefined: boolean; mask: bigint } {
  const noaccess = o.noaccess.some((b) => b !== 0);
  const allUndefined = o.vbits.length > 0 && o.vbits.every((b) => b === 0xff);
  return { noaccess, allUndefined, mask: le(o.vbits) };
}

function bitField(m: Member, o: ObjectBytes): { value: bigint; undef: bigint; fullMask: bigint; noaccess: boolean } {
  const bits = m.bitSize ?? 0;
  const start = (m.bitOffset ?? 0);
  const nBytes = Math.ceil((start + bits) / 8);
  const part = slice(o, m.offset, nBytes);
  const fullMask = (1n << BigInt(bits)) - 1n;
  const value = (le(part.bytes) >> BigInt(start)) & fullMask;
  const undef = (le(part.vbits) >> BigInt(start)) & fullMask;
  const signed = (() => {
    const r = resolved(m.type);
    return r.kind === 'base' && (r.encoding === ATE.signed || r.encoding === ATE.signedChar);
  })();
  return { value: signed ? BigInt.asIntN(bits, value) : value, undef, fullMask, noaccess: part.noaccess.some((b) => b) };
}

function isCharEncoding(e: number): boolean {
  return e === ATE.signedChar || e === ATE.unsignedChar;
}

function escapeChar(c: number): string {
  if (c === 0x22) return '\\"';
  if (c === 0x5c) return '\\\\';
  if (c === 0x0a) return '\\n';
  if (c === 0x09) return '\\t';
  if (c === 0x0d) return '\\r';
  if (c >= 0x20 && c < 0x7f) return String.fromCharCode(c);
  return `\\x${c.toString(16).padStart(2, '0')}`;
}

function baseValue(encoding: number, b: Uint8Array, raw: bigint): string {
  const bits = b.length * 8;
  switch (encoding) {
    case ATE.boolean: return raw === 0n ? 'false' : raw === 1n ? 'true' : `true (${raw})`;
    case ATE.float: return floatValue(b);
    case ATE.signed: return BigInt.asIntN(bits, raw).toString();
    case ATE.signedChar: {
      const n = Number(BigInt.asIntN(bits, raw));
      return `${n} '${escapeChar(n & 0xff)}'`;
    }
    case ATE.unsignedChar: return `${raw} '${escapeChar(Number(raw) & 0xff)}'`;
    case ATE.address: return hex(raw);
    default: return raw.toString();
  }
}

function floatValue(b: Uint8Array): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === 4) return String(dv.getFloat32(0, true));
  if (b.length === 8) return String(dv.getFloat64(0, true));
  if (b.length >= 10) {
    // x87 80-bit extended: 64-bit mantissa with explicit integer bit, 15-bit exponent, sign.
    const mant = dv.getBigUint64(0, true);
    const se = dv.getUint16(8, true);
    const sign = se & 0x8000 ? -1 : 1;
    const exp = se & 0x7fff;
    if (exp === 0 && mant === 0n) return sign < 0 ? '-0' : '0';
    if (exp === 0x7fff) return mant << 1n === 0n ? (sign < 0 ? '-inf' : 'inf') : 'nan';
    return String(sign * Number(mant) * 2 ** (exp - 16383 - 63));
  }
  return hex(le(b));
}
