/**
 * C types from DWARF, as a small JS model a debugger can decode values with: base types,
 * pointers, structs and unions with their members (bit fields too), arrays, enums, typedefs and
 * qualifiers. Built lazily from DIEs and cached by DIE identity, so self-referential types
 * (`struct node { struct node *next; }`) resolve to the same object instead of recursing.
 */
import { AT, aggregateSize, children, Die, dieKey, expression, hasAttr, name, ref, sdata, tag, TAG, udata } from './dies';

/** DW_ATE_* encodings of base types. */
export const ATE = {
  address: 1, boolean: 2, complexFloat: 3, float: 4, signed: 5, signedChar: 6, unsigned: 7, unsignedChar: 8, utf: 0x10,
} as const;

export interface BaseType { kind: 'base'; name: string; size: number; encoding: number }
export interface PointerType { kind: 'pointer'; name: string; size: number; target(): CType | undefined }
export interface Member { name: string; offset: number; type: CType; bitSize?: number; bitOffset?: number }
export interface StructType { kind: 'struct' | 'union'; name: string; size: number; members: Member[] }
export interface ArrayType { kind: 'array'; name: string; size: number; element: CType; /** Element count; undefined for `T x[]`. */ count: number | undefined }
export interface EnumType { kind: 'enum'; name: string; size: number; signed: boolean; values: Map<number, string> }
export interface TypedefType { kind: 'typedef'; name: string; size: number; target: CType }
export interface FunctionType { kind: 'function'; name: string; size: number }
export interface VoidType { kind: 'void'; name: string; size: number }

/** A type. `name` is the C spelling shown to users ("struct node *", "int [4]"). */
export type CType = BaseType | PointerType | StructType | ArrayType | EnumType | TypedefType | FunctionType | VoidType;

const VOID: VoidType = { kind: 'void', name: 'void', size: 0 };

/** The type behind typedefs (qualifiers are dropped when the model is built). */
export function resolved(t: CType): Exclude<CType, TypedefType> {
  let cur: CType = t;
  while (cur.kind === 'typedef') cur = cur.target;
  return cur;
}

/** Builds and caches the types of one debug session. */
export class TypeCache {
  private readonly byDie = new Map<bigint, CType>();

  /** The type of a variable or member DIE (its DW_AT_type); void when it has none. */
  typeOf(d: Die): CType {
    const t = ref(d, AT.type);
    return t ? this.type(t) : VOID;
  }

  /** The type a type DIE describes. */
  type(d: Die): CType {
    const key = dieKey(d);
    const hit = this.byDie.get(key);
    if (hit) return hit;
    return this.build(d, key);
  }

  private build(d: Die, key: bigint): CType {
    const t = tag(d);
    const nm = name(d);
    switch (t) {
      case TAG.baseType: {
        const b: BaseType = { kind: 'base', name: nm ?? '?', size: udata(d, AT.byteSize) ?? 0, encoding: udata(d, AT.encoding) ?? ATE.signed };
        this.byDie.set(key, b);
        return b;
      }
      case TAG.pointer: case TAG.reference: case TAG.rvalueReference: {
        const target = ref(d, AT.type);
        let cached: CType | undefined;
        const p: PointerType = {
          kind: 'pointer', name: '', size: udata(d, AT.byteSize) ?? 8,
          // Resolved on demand: the target may be the struct that contains this pointer.
          target: () => (cached ??= target ? this.type(target) : VOID),
        };
        this.byDie.set(key, p);
        p.name = pointerName(target ? this.peekName(target) : 'void', t === TAG.pointer ? '*' : '&');
        return p;
      }
      case TAG.const: case TAG.volatile: case TAG.restrict: case TAG.atomic: {
        // Qualifiers do not change how a value decodes; keep the qualified type's model.
        const target = ref(d, AT.type);
        const inner = target ? this.type(target) : VOID;
        this.byDie.set(key, inner);
        return inner;
      }
      case TAG.typedef: {
        const target = ref(d, AT.type);
        const td: TypedefType = { kind: 'typedef', name: nm ?? '?', size: 0, target: VOID };
        this.byDie.set(key, td);
        td.target = target ? this.type(target) : VOID;
        td.size = td.target.size;
        return td;
      }
      case TAG.structure: case TAG.class: case TAG.union: {
        const s: StructType = {
          kind: t === TAG.union ? 'union' : 'struct', name: `${t === TAG.union ? 'union' : 'struct'} ${nm ?? '<anonymous>'}`,
          size: udata(d, AT.byteSize) ?? 0, members: [],
        };
        this.byDie.set(key, s);
        for (const c of children(d)) {
          const ct = tag(c);
          if (ct !== TAG.member && ct !== TAG.inheritance) continue;
          s.members.push(this.member(c, ct === TAG.inheritance));
        }
        return s;
      }
      case TAG.array: {
        const elemDie = ref(d, AT.type);
        const a: ArrayType = { kind: 'array', name: '', size: 0, element: VOID, count: undefined };
        this.byDie.set(key, a);
        const element = elemDie ? this.type(elemDie) : VOID;
        // Multi-dimensional arrays are one DIE with several subranges: nest them, innermost last.
        const counts = children(d).filter((c) => tag(c) === TAG.subrange).map(subrangeCount);
        let inner: CType = element;
        for (let i = counts.length - 1; i >= 1; i--) {
          inner = { kind: 'array', name: arrayName(inner, counts[i]), size: (counts[i] ?? 0) * inner.size, element: inner, count: counts[i] };
        }
        a.element = inner;
        a.count = counts.length ? counts[0] : undefined;
        a.size = aggregateSize(d) ?? (a.count ?? 0) * inner.size;
        a.name = arrayName(inner, a.count);
        return a;
      }
      case TAG.enumeration: {
        const values = new Map<number, string>();
        for (const c of children(d)) {
          if (tag(c) !== TAG.enumerator) continue;
          const v = sdata(c, AT.constValue);
          if (v !== undefined) values.set(v, name(c) ?? '?');
        }
        const under = ref(d, AT.type);
        const underlying = under ? resolved(this.type(under)) : undefined;
        const signed = underlying?.kind === 'base' ? underlying.encoding === ATE.signed || underlying.encoding === ATE.signedChar : [...values.keys()].some((v) => v < 0);
        const e: EnumType = { kind: 'enum', name: `enum ${nm ?? '<anonymous>'}`, size: udata(d, AT.byteSize) ?? 4, signed, values };
        this.byDie.set(key, e);
        return e;
      }
      case TAG.subroutineType: {
        const f: FunctionType = { kind: 'function', name: 'function', size: 1 };
        this.byDie.set(key, f);
        return f;
      }
      default: {
        const v: VoidType = { kind: 'void', name: nm ?? 'void', size: 0 };
        this.byDie.set(key, v);
        return v;
      }
    }
  }

  private member(c: Die, inheritance: boolean): Member {
    const type = this.typeOf(c);
    const m: Member = { name: inheritance ? `<base ${type.name}>` : name(c) ?? '<anonymous>', offset: memberOffset(c), type };
    const bitSize = udata(c, AT.bitSize);
    if (bitSize !== undefined) {
      m.bitSize = bitSize;
      // DWARF 4+ gives DW_AT_data_bit_offset from the start of the struct (little-endian bit order).
      const dataBit = udata(c, AT.dataBitOffset);
      if (dataBit !== undefined) {
        m.offset = Math.floor(dataBit / 8);
        m.bitOffset = dataBit % 8;
      } else {
        m.bitOffset = 0;
      }
    }
    return m;
  }

  // The spelling of a type without building it (a pointer's target may be under construction).
  private peekName(d: Die): string {
    const hit = this.byDie.get(dieKey(d));
    if (hit) return hit.name;
    switch (tag(d)) {
      case TAG.structure: case TAG.class: return `struct ${name(d) ?? '<anonymous>'}`;
      case TAG.union: return `union ${name(d) ?? '<anonymous>'}`;
      case TAG.enumeration: return `enum ${name(d) ?? '<anonymous>'}`;
      case TAG.subroutineType: return 'function';
      case TAG.const: case TAG.volatile: case TAG.restrict: case TAG.atomic: {
        const t = ref(d, AT.type);
        return t ? this.peekName(t) : 'void';
      }
      default: return this.type(d).name;
    }
  }
}

function memberOffset(c: Die): number {
  const u = udata(c, AT.dataMemberLocation);
  if (u !== undefined) return u;
  // DWARF 2 style: an expression, in practice DW_OP_plus_uconst N.
  const ops = hasAttr(c, AT.dataMemberLocation) ? expression(c, AT.dataMemberLocation) : undefined;
  return ops && ops.length === 1 && ops[0].atom === 0x23 ? ops[0].number : 0;
}

function subrangeCount(s: Die): number | undefined {
  const count = udata(s, AT.count);
  if (count !== undefined) return count;
  const upper = sdata(s, AT.upperBound);
  return upper === undefined ? undefined : upper + 1;
}

function pointerName(target: string, sigil: string): string {
  return target.endsWith('*') || target.endsWith('&') ? `${target}${sigil}` : `${target} ${sigil}`;
}

function arrayName(element: CType, count: number | undefined): string {
  const dim = `[${count ?? ''}]`;
  // "int [2][3]": an inner array's dimensions follow the outer one.
  const m = /^(.*?)( ?)((?:\[\d*\])+)$/.exec(element.name);
  return m ? `${m[1]} ${dim}${m[3]}` : `${element.name} ${dim}`;
}
