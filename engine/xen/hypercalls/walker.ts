/**
 * PRE and POST derived from declarations: one walk over a sub-op's rules, run once before the
 * hypercall (reads must be defined, writes addressable) and once after a successful call (writes
 * become defined). Counts are re-evaluated in each phase, so an OUT array is checked for the
 * capacity the caller offered and marked for what the hypervisor filled.
 */

import { GuestMemory, NO_CHECKS, ParamChecker, WarnSink } from '../interfaces';
import { CType, Layout, layoutOf, present, resolve, sizeAlign, StructType } from '../layouts/ctypes';
import { LATEST, Release } from '../layouts/releases';
import { GuestFault, readUint } from '../layouts/view';
import { isError } from '../errno';
import { BufDecl, Count, HypercallDecl, Path, Rule, SubOp } from './decl';
import { hypercallByNumber, hypercallName } from './registry';

type Phase = 'pre' | 'post' | 'ptrs';

/** Where a guest pointer the hypervisor will follow is stored. */
export type PointerLoc =
  | { readonly kind: 'arg'; readonly index: number; readonly value: bigint }
  | { readonly kind: 'mem'; readonly addr: number; readonly value: bigint };

/** The engine side of a check: memory, memcheck, warnings. */
export interface CheckEnv {
  readonly mem: GuestMemory;
  readonly checker: ParamChecker;
  readonly warn: WarnSink;
}

/** One struct (or argument set) the rules are evaluated against. */
interface Frame {
  readonly env: CheckEnv;
  readonly args: readonly bigint[];
  readonly release: Release;
  readonly base: number;
  readonly layout: Layout | undefined;
  /** Member-path prefix shown in names (`u.getvcpuinfo.`, `uop[1].`). */
  readonly prefix: string;
  /** `ioctl(privcmd hypercall domctl getvcpuinfo` — everything before the member. */
  readonly label: string;
  /** Warning text prefix (`domctl getvcpuinfo`). */
  readonly where: string;
  result?: bigint;
  /** Phase 'ptrs': where each guest pointer lives; argument slots may themselves be in memory. */
  readonly collect?: (loc: PointerLoc) => void;
  readonly argAddr?: (i: number) => number | undefined;
}

/** A checked call waiting for its result. */
export interface CheckedCall {
  /** `domctl getvcpuinfo`, `memory_op populate_physmap`, or the bare hypercall name. */
  readonly label: string;
  readonly decl: HypercallDecl | undefined;
  readonly sub: SubOp | undefined;
  /** Mark the hypervisor's writes defined (only when `result` is not an error). */
  post(result: bigint): void;
}

/** Element size of a buffer declaration. */
function elemSize(elem: CType | number, release: Release): number {
  return typeof elem === 'number' ? elem : sizeAlign(elem, release).size;
}
function elemLayout(elem: CType | number, release: Release): Layout | undefined {
  if (typeof elem === 'number' || typeof elem === 'string' || elem.kind === 'array') return undefined;
  return layoutOf(elem, release);
}

/** Read a member's value, or undefined when it is absent in this release. */
function member(fr: Frame, path: Path): bigint | undefined {
  if (!fr.layout) return undefined;
  const r = resolve(fr.layout, path);
  if (!r) return undefined;
  return readUint(fr.env.mem, fr.base + r.offset, Math.min(r.size, 8));
}

function evalCount(fr: Frame, c: Count, phase: Phase): number {
  if (typeof c === 'number') return c;
  if ('field' in c) {
    let v = Number(member(fr, c.field) ?? 0n);
    if (c.plus) v += c.plus;
    if (c.square) v = v * v;
    if (c.times) v *= c.times;
    if (c.div) v = Math.ceil(v / c.div);
    return v;
  }
  if ('arg' in c) return Number(BigInt.asUintN(32, fr.args[c.arg] ?? 0n));
  if ('result' in c) return phase === 'post' && fr.result !== undefined && fr.result > 0n ? Number(fr.result) : 0;
  if ('bits' in c) return Math.ceil(Number(member(fr, c.bits) ?? 0n) / 8);
  return Math.min(...c.min.map((x) => evalCount(fr, x, phase)));
}

function name(fr: Frame, path: string): string {
  const full = fr.prefix + path;
  return `${fr.label} ${full.endsWith('.') ? full.slice(0, -1) : full})`;
}

function fields(fr: Frame, paths: readonly Path[], phase: Phase, mode: 'in' | 'out' | 'inout'): void {
  if (!fr.layout || phase === 'ptrs') return;
  for (const p of paths) {
    const r = p === '' ? { offset: 0, size: fr.layout.size } : resolve(fr.layout, p);
    if (!r) continue; // not part of this release's ABI
    const addr = fr.base + r.offset;
    if (phase === 'pre') {
      if (mode === 'out') fr.env.checker.preWrite(addr, r.size, name(fr, p));
      else fr.env.checker.preRead(addr, r.size, name(fr, p));
    } else if (mode !== 'in') {
      fr.env.checker.postWrite(addr, r.size);
    }
  }
}

/** Cap for per-element rule walks, so a garbage count cannot hang the engine. */
const MAX_EACH = 65536;

/** Report where an argument slot's pointer lives (a register slot, or a multicall entry word). */
function collectArg(fr: Frame, i: number): void {
  const v = BigInt.asUintN(64, fr.args[i] ?? 0n);
  const at = fr.argAddr?.(i);
  fr.collect?.(at === undefined ? { kind: 'arg', index: i, value: v } : { kind: 'mem', addr: at, value: v });
}

function buffer(fr: Frame, b: BufDecl, phase: Phase): void {
  let ptr: number;
  let label: string;
  if (typeof b.ptr === 'string') {
    const r = fr.layout && resolve(fr.layout, b.ptr);
    if (!r) return;
    const v = readUint(fr.env.mem, fr.base + r.offset, 8);
    ptr = Number(v);
    label = b.name ?? `*${fr.prefix}${b.ptr}`;
    if (phase === 'ptrs') fr.collect?.({ kind: 'mem', addr: fr.base + r.offset, value: v });
  } else if ('arg' in b.ptr) {
    ptr = Number(BigInt.asUintN(64, fr.args[b.ptr.arg] ?? 0n));
    label = b.name ?? `*arg${b.ptr.arg}`;
    if (phase === 'ptrs') collectArg(fr, b.ptr.arg);
  } else if ('inline' in b.ptr) {
    ptr = fr.base + b.ptr.inline;
    label = b.name ?? `${fr.prefix}[${b.ptr.inline}…]`;
  } else {
    const at = Number(BigInt.asUintN(64, fr.args[b.ptr.argPtr] ?? 0n)) + b.ptr.offset;
    ptr = Number(readUint(fr.env.mem, at, 8));
    label = b.name ?? `*arg${b.ptr.argPtr}[${b.ptr.offset}]`;
    if (phase === 'ptrs') fr.collect?.({ kind: 'mem', addr: at, value: BigInt(ptr) });
  }
  if (ptr === 0 && b.nullOk) return;
  const es = elemSize(b.elem, fr.release);
  const what = `${fr.label} ${label})`;
  const n = evalCount(fr, phase === 'post' && b.postCount !== undefined ? b.postCount : b.count, phase);
  if (b.dir === 'none' || phase === 'ptrs') {
    // only the per-element rules below
  } else if (phase === 'pre') {
    if (n > 0) {
      if (b.dir === 'out') fr.env.checker.preWrite(ptr, n * es, what);
      else fr.env.checker.preRead(ptr, n * es, what);
    }
  } else if (b.dir !== 'in' && n > 0) {
    fr.env.checker.postWrite(ptr, n * es);
  }
  if (b.each) {
    const el = elemLayout(b.elem, fr.release);
    for (let i = 0; i < Math.min(n, MAX_EACH); i++) {
      const sub: Frame = { ...fr, base: ptr + i * es, layout: el, prefix: b.dir === 'none' ? `${label}.` : `${label}[${i}].` };
      rules(sub, b.each, phase);
    }
  }
}

function rules(fr: Frame, list: readonly Rule[], phase: Phase): void {
  for (const r of list) {
    try {
      rule(fr, r, phase);
    } catch (e) {
      // Unreadable selector or handle: the PRE check has already reported the bytes; Xen
      // itself would fail with -EFAULT, so there is nothing further to check or mark.
      if (!(e instanceof GuestFault)) throw e;
    }
  }
}

function rule(fr: Frame, r: Rule, phase: Phase): void {
  if ('in' in r) return fields(fr, r.in, phase, 'in');
  if ('out' in r) return fields(fr, r.out, phase, 'out');
  if ('inout' in r) return fields(fr, r.inout, phase, 'inout');
  if ('buf' in r) return buffer(fr, r.buf, phase);
  if ('select' in r) {
    const v = member(fr, r.select);
    if (v === undefined) return;
    const c = r.cases[Number(v)];
    if (!c || !present(c, fr.release)) {
      if (phase === 'pre' && !r.ignoreUnknown) fr.env.warn(`WARNING: unhandled Xen ${fr.where} ${r.select} ${v}`);
      return;
    }
    return rules(fr, c.rules, phase);
  }
  if ('when' in r) {
    const v = member(fr, r.when);
    if (v === undefined) return;
    const hit = r.mask !== undefined ? (v & BigInt(r.mask)) !== 0n : r.eq !== undefined ? v === BigInt(r.eq) : v !== 0n;
    return rules(fr, hit ? r.then : r.else ?? [], phase);
  }
  if ('whenArg' in r) {
    const v = fr.args[r.whenArg] ?? 0n;
    if (!r.nonzero || v !== 0n) rules(fr, r.then, phase);
  }
}

function findSub(decl: HypercallDecl, value: number, release: Release): SubOp | undefined {
  return decl.subops.find((s) => s.value === value && present(s, release));
}

/** A hypercall resolved to its declaration, sub-op and the frames its rules apply to. */
interface Resolved {
  readonly label: string;
  readonly decl: HypercallDecl | undefined;
  readonly sub: SubOp | undefined;
  readonly frames: Frame[];
  readonly rules: readonly Rule[];
  /** Envelope members written by the sub-op (domctl `domain`). */
  readonly envOut?: { frame: Frame; paths: readonly Path[] };
  /** Where the root struct's pointer lives (argument index), for pointer collection. */
  readonly rootArg?: number;
}

/**
 * Resolve hypercall `op`: declaration, interface version, sub-op, root struct(s). The envelope
 * header is checked here (it is read before anything else); unknown hypercalls, sub-ops and
 * versions warn and resolve to nothing further.
 */
function resolveCall(op: number, args: readonly bigint[], env: CheckEnv, site: string, phase: Phase, extra: Partial<Frame>): Resolved {
  const decl = hypercallByNumber(op);
  const none = (label: string, d?: HypercallDecl, rootArg?: number): Resolved => ({ label, decl: d, sub: undefined, frames: [], rules: [], rootArg });
  if (!decl) {
    const known = hypercallName(op);
    if (phase === 'pre') env.warn(`WARNING: unhandled Xen hypercall ${op}${known ? ` (${known})` : ''}`);
    return none(known ?? `hypercall ${op}`);
  }
  const shape = decl.shape;
  const release0 = decl.release ?? LATEST;
  const frame = (f: Omit<Frame, 'env' | 'args' | 'collect' | 'argAddr'>): Frame => ({ env, args, ...extra, ...f });
  if (shape.kind === 'plain') {
    return { label: decl.name, decl, sub: undefined, rules: decl.rules ?? [],
      frames: [frame({ release: release0, base: 0, layout: undefined, prefix: '', label: `${site} ${decl.name}`, where: decl.name })] };
  }
  if (shape.kind === 'arg') {
    const raw = BigInt.asUintN(64, args[shape.arg] ?? 0n);
    const cmd = Number(shape.mask !== undefined ? raw & shape.mask : raw);
    const sub = findSub(decl, cmd, release0);
    if (!sub) {
      if (phase === 'pre') env.warn(`WARNING: unhandled Xen ${decl.name} sub-op ${cmd}`);
      return none(decl.name, decl);
    }
    const label = `${decl.name} ${sub.name}`;
    return { label, decl, sub, rules: sub.rules, rootArg: sub.root?.arg,
      frames: rootFrames(decl, sub, args, release0, `${site} ${label}`, label).map((f) => frame(f)) };
  }
  // Envelope: header first (its offsets do not depend on the version), then version, then cmd.
  const ptr = Number(BigInt.asUintN(64, args[shape.arg] ?? 0n));
  const head = frame({ release: LATEST, base: ptr, layout: layoutOf(shape.type, LATEST), prefix: '', label: `${site} ${decl.name}`, where: decl.name });
  // The selectors (cmd, interface_version) are named after the hypercall alone; the other
  // header members (domctl's `domain`) are inputs of the sub-op and are named with it once it
  // is known (`domctl getdomaininfo domain`), or with the hypercall alone when it is not.
  const selectors = new Set<Path>([shape.cmd, ...(shape.version ? [shape.version.field] : [])]);
  fields(head, shape.header.filter((p) => selectors.has(p)), phase, 'in');
  const rest = shape.header.filter((p) => !selectors.has(p));
  const unresolved = (): Resolved => {
    fields(head, rest, phase, 'in');
    return none(decl.name, decl, shape.arg);
  };
  let release = release0;
  let cmd: number;
  let version: number | undefined;
  try {
    cmd = Number(member(head, shape.cmd) ?? 0n);
    if (shape.version) version = Number(member(head, shape.version.field) ?? 0n);
  } catch (e) {
    if (e instanceof GuestFault) return unresolved();
    throw e;
  }
  if (shape.version && version !== undefined) {
    const r = shape.version.release(version);
    if (r === undefined) {
      if (phase === 'pre') env.warn(`WARNING: unhandled Xen ${decl.name} interface version 0x${version.toString(16)}`);
      return unresolved();
    }
    release = r;
  }
  const sub = findSub(decl, cmd, release);
  if (!sub) {
    if (phase === 'pre') env.warn(`WARNING: unhandled Xen ${decl.name} sub-op ${cmd}${version !== undefined ? ` (interface version 0x${version.toString(16)})` : ''}`);
    return unresolved();
  }
  const layout = layoutOf(shape.type, release);
  const label = `${decl.name} ${sub.name}`;
  fields({ ...head, label: `${site} ${label}` }, rest, phase, 'in');
  const memberPath = sub.member ? `u.${sub.member}` : undefined;
  const mr = memberPath ? resolve(layout, memberPath) : undefined;
  const fr = frame({
    release, base: ptr + (mr?.offset ?? 0), layout: mr?.nested ?? layout,
    prefix: memberPath ? `${memberPath}.` : '', label: `${site} ${label}`, where: label,
  });
  return { label, decl, sub, rules: sub.rules, frames: [fr], rootArg: shape.arg,
    envOut: sub.envOut ? { frame: { ...head, release, layout, label: `${site} ${label}` }, paths: sub.envOut } : undefined };
}

/**
 * Run the PRE checks of hypercall `op` with raw arguments `args`, as issued from `site`
 * (`ioctl(privcmd hypercall` or `ioctl(privcmd hypercall multicall[2]`). Unknown hypercalls,
 * sub-ops and interface versions produce one warning each and no further checks; the call is
 * still meant to be passed to the hypervisor. Returns the handle for POST.
 */
export function checkHypercall(op: number, args: readonly bigint[], env: CheckEnv, site: string): CheckedCall {
  const r = resolveCall(op, args, env, site, 'pre', {});
  for (const fr of r.frames) rules(fr, r.rules, 'pre');
  if (r.envOut) fields(r.envOut.frame, r.envOut.paths, 'pre', 'out');
  return {
    label: r.label, decl: r.decl, sub: r.sub,
    post(result) {
      if (isError(result)) return;
      for (const fr of r.frames) { fr.result = result; rules(fr, r.rules, 'post'); }
      if (r.envOut) fields(r.envOut.frame, r.envOut.paths, 'post', 'out');
    },
  };
}

/**
 * Every guest pointer hypercall `op` makes the hypervisor follow: the root struct's argument and
 * each declared buffer handle, recursively (the `--xen=host` translation list). `argAddr` says
 * where argument slots live when they are in memory (multicall entries).
 */
export function pointerLocations(op: number, args: readonly bigint[], mem: GuestMemory, argAddr?: (i: number) => number | undefined): PointerLoc[] {
  const out: PointerLoc[] = [];
  const env: CheckEnv = { mem, checker: NO_CHECKS, warn: () => undefined };
  const collect = (l: PointerLoc) => out.push(l);
  const r = resolveCall(op, args, env, '', 'ptrs', { collect, argAddr });
  if (r.rootArg !== undefined && (args[r.rootArg] ?? 0n) !== 0n) {
    const at = argAddr?.(r.rootArg);
    const v = BigInt.asUintN(64, args[r.rootArg]);
    out.push(at === undefined ? { kind: 'arg', index: r.rootArg, value: v } : { kind: 'mem', addr: at, value: v });
  }
  for (const fr of r.frames) rules(fr, r.rules, 'ptrs');
  return dedupe(out);
}

/** One entry per location: several rules may name the same handle (translating twice would corrupt it). */
function dedupe(locs: PointerLoc[]): PointerLoc[] {
  const seen = new Set<string>();
  return locs.filter((l) => {
    const k = l.kind === 'arg' ? `a${l.index}` : `m${l.addr}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Frames for an argument-pointer sub-op: one struct, or `count` of them. */
type FrameCore = Omit<Frame, 'env' | 'args' | 'collect' | 'argAddr'>;
function rootFrames(decl: HypercallDecl, sub: SubOp, args: readonly bigint[], release: Release, label: string, where: string): FrameCore[] {
  if (!sub.root) return [{ release, base: 0, layout: undefined, prefix: '', label, where }];
  const base = Number(BigInt.asUintN(64, args[sub.root.arg] ?? 0n));
  const layout = layoutOf(sub.root.type, release);
  if (sub.root.countArg === undefined) return [{ release, base, layout, prefix: '', label, where }];
  const n = Math.min(Number(BigInt.asUintN(32, args[sub.root.countArg] ?? 0n)), MAX_EACH);
  const argName = decl.args[sub.root.arg] ?? `arg${sub.root.arg}`;
  const out: FrameCore[] = [];
  for (let i = 0; i < n; i++) out.push({ release, base: base + i * layout.size, layout, prefix: `${argName}[${i}].`, label, where });
  return out;
}

/**
 * PRE for a struct at `base` (an ioctl argument) with the given rules; `label` is the message
 * prefix (`ioctl(privcmd mmapbatch_v2`). Returns the POST handle.
 */
export function checkRules(rules_: readonly Rule[], base: number, type: StructType | undefined, env: CheckEnv, label: string): CheckedCall {
  const release = LATEST;
  const fr: Frame = { env, args: [], release, base, layout: type ? layoutOf(type, release) : undefined, prefix: '', label, where: label.replace(/^ioctl\(/, '') };
  rules(fr, rules_, 'pre');
  return {
    label, decl: undefined, sub: undefined,
    post(result) {
      if (isError(result)) return;
      fr.result = result;
      rules(fr, rules_, 'post');
    },
  };
}

/** Pointer locations for a struct with rules (an ioctl argument), as `pointerLocations` does for hypercalls. */
export function rulesPointerLocations(rules_: readonly Rule[], base: number, type: StructType | undefined, mem: GuestMemory): PointerLoc[] {
  const out: PointerLoc[] = [];
  const env: CheckEnv = { mem, checker: NO_CHECKS, warn: () => undefined };
  const fr: Frame = { env, args: [], release: LATEST, base, layout: type ? layoutOf(type, LATEST) : undefined, prefix: '', label: '', where: '', collect: (l) => out.push(l) };
  rules(fr, rules_, 'ptrs');
  return dedupe(out);
}
