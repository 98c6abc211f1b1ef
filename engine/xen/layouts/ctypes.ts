/**
 * A small C-type vocabulary for amd64 struct layouts.
 *
 * Xen's public structs change between releases (fields appear, move, change width). Rather than
 * writing one table of offsets per interface version, each struct is written once, with every
 * field that did not always exist annotated with the Xen releases it exists in. `layoutOf` then
 * computes offsets with the amd64 SysV rules (natural alignment; `uint64_aligned_t` and guest
 * handles are 8-aligned on amd64 anyway), for the release the caller asks for. The same layouts
 * drive the PRE/POST checks, the simulated hypervisor's reads and writes, and the header-checking
 * test, so a wrong offset shows up in one place.
 */

import { Release } from './releases';

/** Scalar kinds. `handle` is `XEN_GUEST_HANDLE_64(T)`: a u64 guest pointer on amd64. */
export type Scalar = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'handle';

/** A C type: a scalar, a fixed array, or a struct/union. */
export type CType = Scalar | ArrayType | StructType;

export interface ArrayType {
  readonly kind: 'array';
  readonly of: CType;
  readonly count: number;
}

/** One member of a struct or union, present in releases [since, until] (inclusive). */
export interface FieldSpec {
  readonly name: string;
  readonly type: CType;
  readonly since?: Release;
  readonly until?: Release;
  /** What a guest handle points to, for documentation and the simulator (element type). */
  readonly target?: CType;
}

export interface StructType {
  readonly kind: 'struct' | 'union';
  /** The C spelling (`struct xen_domctl_getdomaininfo`), used by the header-checking test. */
  readonly cName: string;
  readonly fields: readonly FieldSpec[];
  /** Releases in which the type exists at all (for the header test and lookups). */
  readonly since?: Release;
  readonly until?: Release;
  /** `__attribute__((packed))`: every member 1-aligned (Xen's e820 entries). */
  readonly packed?: boolean;
}

/** A field placed at its offset for one release. */
export interface LaidField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: CType;
  /** Nested layout for struct/union members. */
  readonly nested?: Layout;
  /** Element layout/size for arrays. */
  readonly elem?: { readonly size: number; readonly nested?: Layout; readonly type: CType };
  readonly count?: number;
  readonly target?: CType;
}

/** A struct or union laid out for one release. */
export interface Layout {
  readonly cName: string;
  readonly kind: 'struct' | 'union';
  readonly size: number;
  readonly align: number;
  readonly release: Release;
  readonly fields: readonly LaidField[];
  readonly byName: ReadonlyMap<string, LaidField>;
}

const SCALAR_SIZE: Record<Scalar, number> = {
  u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8, handle: 8,
};

// --- builders: keep the tables short -------------------------------------------------------------

/** A struct type. */
export function struct(cName: string, fields: readonly FieldSpec[], opts: { since?: Release; until?: Release; packed?: boolean } = {}): StructType {
  return { kind: 'struct', cName, fields, ...opts };
}
/** A union type. */
export function union(cName: string, fields: readonly FieldSpec[]): StructType {
  return { kind: 'union', cName, fields };
}
/** A fixed-size array type. */
export function arr(of: CType, count: number): ArrayType {
  return { kind: 'array', of, count };
}
/** A field; `range` gates it to the releases it exists in. */
export function f(name: string, type: CType, range: { since?: Release; until?: Release; target?: CType } = {}): FieldSpec {
  return { name, type, ...range };
}
/** A guest-handle field pointing at elements of `target`. */
export function h(name: string, target: CType, range: { since?: Release; until?: Release } = {}): FieldSpec {
  return { name, type: 'handle', target, ...range };
}

/** True when a field/type gated by since/until exists in `release`. */
export function present(x: { since?: Release; until?: Release }, release: Release): boolean {
  return (x.since === undefined || release >= x.since) && (x.until === undefined || release <= x.until);
}

/** Size and alignment of a type in one release. */
export function sizeAlign(t: CType, release: Release): { size: number; align: number; nested?: Layout } {
  if (typeof t === 'string') return { size: SCALAR_SIZE[t], align: SCALAR_SIZE[t] };
  if (t.kind === 'array') {
    const e = sizeAlign(t.of, release);
    return { size: e.size * t.count, align: e.align };
  }
  const l = layoutOf(t, release);
  return { size: l.size, align: l.align, nested: l };
}

const cache = new WeakMap<StructType, Map<Release, Layout>>();

/** Lay a struct or union out for a release (memoised). */
export function layoutOf(t: StructType, release: Release): Layout {
  let perRelease = cache.get(t);
  if (!perRelease) { perRelease = new Map(); cache.set(t, perRelease); }
  const hit = perRelease.get(release);
  if (hit) return hit;
  const fields: LaidField[] = [];
  let off = 0;
  let size = 0;
  let align = 1;
  for (const spec of t.fields) {
    if (!present(spec, release)) continue;
    const natural = sizeAlign(spec.type, release);
    const sa = t.packed ? { ...natural, align: 1 } : natural;
    align = Math.max(align, sa.align);
    const at = t.kind === 'union' ? 0 : roundUp(off, sa.align);
    let elem: LaidField['elem'];
    let count: number | undefined;
    if (typeof spec.type !== 'string' && spec.type.kind === 'array') {
      const e = sizeAlign(spec.type.of, release);
      elem = { size: e.size, nested: e.nested, type: spec.type.of };
      count = spec.type.count;
    }
    fields.push({ name: spec.name, offset: at, size: sa.size, type: spec.type, nested: sa.nested, elem, count, target: spec.target });
    if (t.kind === 'union') size = Math.max(size, sa.size);
    else off = at + sa.size;
  }
  if (t.kind === 'struct') size = off;
  size = roundUp(size, align);
  const layout: Layout = {
    cName: t.cName, kind: t.kind, size, align, release, fields,
    byName: new Map(fields.map((x) => [x.name, x])),
  };
  perRelease.set(release, layout);
  return layout;
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A resolved path: where a (possibly nested, possibly indexed) member lives. */
export interface Resolved {
  readonly offset: number;
  readonly size: number;
  readonly type: CType;
  readonly nested?: Layout;
  readonly field: LaidField;
}

/**
 * Resolve a dotted C member path (`u.getdomaininfo.tot_pages`, `hw_cap[3]`, `cpumap.nr_bits`)
 * in a layout. Returns undefined when a component does not exist in this release — callers treat
 * that as "this field is not part of this version's ABI", which is how version-gated IN/OUT
 * declarations stay one list for all releases.
 */
export function resolve(layout: Layout, path: string): Resolved | undefined {
  let cur: Layout | undefined = layout;
  let base = 0;
  let result: Resolved | undefined;
  for (const part of path.split('.')) {
    if (!cur) return undefined;
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(part);
    if (!m) throw new Error(`bad member path ${path}`);
    const fld = cur.byName.get(m[1]);
    if (!fld) return undefined;
    if (m[2] !== undefined) {
      if (!fld.elem || fld.count === undefined) throw new Error(`${m[1]} in ${path} is not an array`);
      const i = Number(m[2]);
      if (i >= fld.count) return undefined;
      base += fld.offset + i * fld.elem.size;
      result = { offset: base, size: fld.elem.size, type: fld.elem.type, nested: fld.elem.nested, field: fld };
      cur = fld.elem.nested;
    } else {
      base += fld.offset;
      result = { offset: base, size: fld.size, type: fld.type, nested: fld.nested, field: fld };
      cur = fld.nested;
    }
  }
  return result;
}

/** Like `resolve` but throws: for paths the code itself relies on (envelopes, simulator). */
export function must(layout: Layout, path: string): Resolved {
  const r = resolve(layout, path);
  if (!r) throw new Error(`${layout.cName} has no member ${path} in release ${layout.release.toString(16)}`);
  return r;
}

/** Every leaf member path of a layout (arrays of scalars stay whole), for tests and POST-all. */
export function leafPaths(layout: Layout, prefix = ''): string[] {
  const out: string[] = [];
  for (const fld of layout.fields) {
    const p = prefix + fld.name;
    if (fld.nested && layout.kind !== 'union') out.push(...leafPaths(fld.nested, p + '.'));
    else if (fld.nested) out.push(...leafPaths(fld.nested, p + '.'));
    else out.push(p);
  }
  return out;
}
