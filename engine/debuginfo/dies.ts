/**
 * DIE walking through libdw (koffi), for variables and types: children and siblings, attribute
 * values, references, location expressions. libdw.ts binds what symbolization and unwinding need;
 * this file binds the rest, loaded the same way (on first use, from Debian's libdw1).
 *
 * A DIE is libdw's 32-byte `Dwarf_Die` (a pointer into the section data, its CU, its abbrev).
 * It stays valid as long as its Dwarf is open, so JS keeps DIEs as 32-byte copies (`Die`) and
 * passes them back by address; the first 8 bytes (the pointer into .debug_info) identify a DIE
 * across the main and alternate (dwz) debug files, which makes them good cache keys.
 */
import koffi from 'koffi';
import { decodeOps, DwarfOp } from './dwarf-expr';
import { nativeView, SIZEOF_ATTRIBUTE, SIZEOF_DIE } from './libdw';

/** A copied Dwarf_Die. */
export type Die = Buffer;

/** DWARF tags used by variables and types. */
export const TAG = {
  array: 0x01, class: 0x02, enumeration: 0x04, formalParameter: 0x05, lexicalBlock: 0x0b, member: 0x0d,
  pointer: 0x0f, reference: 0x10, compileUnit: 0x11, structure: 0x13, subroutineType: 0x15, typedef: 0x16,
  union: 0x17, inheritance: 0x1c, inlinedSubroutine: 0x1d, subrange: 0x21, baseType: 0x24, const: 0x26,
  enumerator: 0x28, subprogram: 0x2e, variable: 0x34, volatile: 0x35, restrict: 0x37, unspecifiedType: 0x3b,
  rvalueReference: 0x42, atomic: 0x47,
} as const;

/** DWARF attributes used by variables and types. */
export const AT = {
  location: 0x02, name: 0x03, byteSize: 0x0b, bitSize: 0x0d, constValue: 0x1c, upperBound: 0x2f, count: 0x37,
  dataMemberLocation: 0x38, declaration: 0x3c, encoding: 0x3e, frameBase: 0x40, type: 0x49, dataBitOffset: 0x6b,
} as const;

interface DieLib {
  dwarf_child(die: Die, result: Die): number;
  dwarf_siblingof(die: Die, result: Die): number;
  dwarf_tag(die: Die): number;
  dwarf_diename(die: Die): string | null;
  dwarf_attr_integrate(die: Die, name: number, result: Buffer): bigint | null;
  dwarf_hasattr_integrate(die: Die, name: number): number;
  dwarf_formref_die(attr: Buffer, result: Die): bigint | null;
  dwarf_formudata(attr: Buffer, value: BigUint64Array): number;
  dwarf_formsdata(attr: Buffer, value: BigInt64Array): number;
  dwarf_formflag(attr: Buffer, value: Uint8Array): number;
  dwarf_aggregate_size(die: Die, size: BigUint64Array): number;
  dwarf_getlocation_addr(attr: Buffer, addr: bigint, exprs: BigUint64Array, lens: BigUint64Array, n: number): number;
  dwarf_getlocation(attr: Buffer, expr: BigUint64Array, len: BigUint64Array): number;
  dwarf_getscopes(cudie: bigint | Die, pc: bigint, scopes: BigUint64Array): number;
  dwarf_getscopes_die(die: Die, scopes: BigUint64Array): number;
  dwfl_module_addrdie(mod: bigint, addr: number | bigint, bias: BigUint64Array): bigint | null;
  free(p: bigint): void;
}

let lib: DieLib | undefined;

function bind(): DieLib {
  const dw = koffi.load('libdw.so.1');
  const libc = koffi.load('libc.so.6');
  const f = (decl: string) => dw.func(decl);
  return {
    dwarf_child: f('int dwarf_child(void *die, void *result)'),
    dwarf_siblingof: f('int dwarf_siblingof(void *die, void *result)'),
    dwarf_tag: f('int dwarf_tag(void *die)'),
    dwarf_diename: f('const char *dwarf_diename(void *die)'),
    dwarf_attr_integrate: f('void *dwarf_attr_integrate(void *die, unsigned int name, void *result)'),
    dwarf_hasattr_integrate: f('int dwarf_hasattr_integrate(void *die, unsigned int name)'),
    dwarf_formref_die: f('void *dwarf_formref_die(void *attr, void *result)'),
    dwarf_formudata: f('int dwarf_formudata(void *attr, void *value)'),
    dwarf_formsdata: f('int dwarf_formsdata(void *attr, void *value)'),
    dwarf_formflag: f('int dwarf_formflag(void *attr, void *value)'),
    dwarf_aggregate_size: f('int dwarf_aggregate_size(void *die, void *size)'),
    dwarf_getlocation_addr: f('int dwarf_getlocation_addr(void *attr, uint64_t address, void *exprs, void *exprlens, size_t nlocs)'),
    dwarf_getlocation: f('int dwarf_getlocation(void *attr, void *expr, void *exprlen)'),
    dwarf_getscopes: f('int dwarf_getscopes(void *cudie, uint64_t pc, void *scopes)'),
    dwarf_getscopes_die: f('int dwarf_getscopes_die(void *die, void *scopes)'),
    dwfl_module_addrdie: f('void *dwfl_module_addrdie(void *mod, uint64_t addr, void *bias)'),
    free: libc.func('void free(void *p)'),
  };
}

function L(): DieLib {
  if (!lib) lib = bind();
  return lib;
}

const attrBuf = Buffer.alloc(SIZEOF_ATTRIBUTE);
const u64 = new BigUint64Array(1);
const s64 = new BigInt64Array(1);
const flag = new Uint8Array(1);
const outPtr = new BigUint64Array(1);
const outLen = new BigUint64Array(1);

/** A fresh zeroed DIE buffer. */
function newDie(): Die {
  return Buffer.alloc(SIZEOF_DIE);
}

/** Copies the Dwarf_Die at native address p. */
export function copyDie(p: bigint): Die {
  const v = nativeView(p, SIZEOF_DIE);
  return Buffer.from(new Uint8Array(v.buffer, v.byteOffset, SIZEOF_DIE));
}

/** A DIE's identity: its address in the loaded section data. */
export function dieKey(d: Die): bigint {
  return d.readBigUInt64LE(0);
}

export function tag(d: Die): number {
  return L().dwarf_tag(d);
}

/** DW_AT_name, following DW_AT_abstract_origin / DW_AT_specification. */
export function name(d: Die): string | undefined {
  return L().dwarf_diename(d) ?? undefined;
}

/** The children of a DIE, in order. */
export function children(d: Die): Die[] {
  const out: Die[] = [];
  let cur = newDie();
  if (L().dwarf_child(d, cur) !== 0) return out;
  for (;;) {
    out.push(cur);
    const next = newDie();
    if (L().dwarf_siblingof(cur, next) !== 0) return out;
    cur = next;
  }
}

export function hasAttr(d: Die, at: number): boolean {
  return L().dwarf_hasattr_integrate(d, at) === 1;
}

/** An unsigned constant attribute. */
export function udata(d: Die, at: number): number | undefined {
  if (!L().dwarf_attr_integrate(d, at, attrBuf)) return undefined;
  return L().dwarf_formudata(attrBuf, u64) === 0 ? Number(u64[0]) : undefined;
}

/** A signed constant attribute (DW_AT_const_value of enumerators, array bounds). */
export function sdata(d: Die, at: number): number | undefined {
  if (!L().dwarf_attr_integrate(d, at, attrBuf)) return undefined;
  if (L().dwarf_formsdata(attrBuf, s64) === 0) return Number(s64[0]);
  return L().dwarf_formudata(attrBuf, u64) === 0 ? Number(u64[0]) : undefined;
}

export function flagAttr(d: Die, at: number): boolean {
  if (!L().dwarf_attr_integrate(d, at, attrBuf)) return false;
  return L().dwarf_formflag(attrBuf, flag) === 0 && flag[0] !== 0;
}

/** The DIE a reference attribute (DW_AT_type) points to. */
export function ref(d: Die, at: number): Die | undefined {
  if (!L().dwarf_attr_integrate(d, at, attrBuf)) return undefined;
  const out = newDie();
  return L().dwarf_formref_die(attrBuf, out) ? out : undefined;
}

/** sizeof the type DIE d (follows typedefs, computes arrays). */
export function aggregateSize(d: Die): number | undefined {
  return L().dwarf_aggregate_size(d, u64) === 0 ? Number(u64[0]) : undefined;
}

/**
 * The location expression of attribute `at` valid at module-relative address `pc`: for a
 * location list the entry covering pc. Returns undefined when the attribute is absent, [] when
 * the object has no location at pc (optimized out there).
 */
export function locationAt(d: Die, at: number, pc: number): DwarfOp[] | undefined {
  if (!L().dwarf_attr_integrate(d, at, attrBuf)) return undefined;
  outPtr[0] = 0n;
  outLen[0] = 0n;
  const n = L().dwarf_getlocation_addr(attrBuf, BigInt(pc), outPtr, outLen, 1);
  if (n <= 0 || outPtr[0] === 0n) return [];
  return decodeOps(outPtr[0], Number(outLen[0]));
}

/** The single location expression of an attribute that is not a list (DW_AT_data_member_location). */
export function expression(d: Die, at: number): DwarfOp[] | undefined {
  if (!L().dwarf_attr_integrate(d, at, attrBuf)) return undefined;
  if (L().dwarf_getlocation(attrBuf, outPtr, outLen) !== 0 || outPtr[0] === 0n) return undefined;
  return decodeOps(outPtr[0], Number(outLen[0]));
}

/** The CU DIE covering absolute address addr of a module, and the module's DWARF bias. */
export function cuDieAt(mod: bigint, addr: number): { cu: Die; bias: number } | undefined {
  const bias = new BigUint64Array(1);
  const p = L().dwfl_module_addrdie(mod, addr, bias);
  return p ? { cu: copyDie(p), bias: Number(bias[0]) } : undefined;
}

/** The scopes containing module-relative pc, innermost first (dwarf_getscopes). */
export function scopesAt(cu: Die, pc: number): Die[] {
  return readDieArray(L().dwarf_getscopes(cu, BigInt(pc), outPtr), outPtr[0]);
}

/** The physical chain of DIEs containing d, d first (dwarf_getscopes_die). */
export function scopesOfDie(d: Die): Die[] {
  return readDieArray(L().dwarf_getscopes_die(d, outPtr), outPtr[0]);
}

function readDieArray(n: number, p: bigint): Die[] {
  if (n <= 0 || p === 0n) return [];
  try {
    const out: Die[] = [];
    for (let i = 0; i < n; i++) out.push(copyDie(p + BigInt(i * SIZEOF_DIE)));
    return out;
  } finally {
    L().free(p);
  }
}
