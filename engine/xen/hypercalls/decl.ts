/**
 * The vocabulary of hypercall declarations.
 *
 * A declaration says, for one hypercall and sub-op, which bytes the hypervisor reads (IN), which
 * it writes (OUT), and which guest buffers hang off handles, with their element type and count.
 * PRE checks, POST definedness, error-message names, coverage figures and `--xen=host` handle
 * translation are all derived from it (hypercalls/walker.ts); nothing is written twice.
 *
 * Only the fields Xen really consumes for a sub-op are IN: libxc sends e.g. cpupool FREEINFO with
 * an uninitialised `cpupool_id` that Xen never looks at, and reporting it would be a false
 * positive (reference §8.10). Fields absent from a release's layout are skipped, so one list
 * serves every interface version.
 */

import { CType, StructType } from '../layouts/ctypes';
import { Release } from '../layouts/releases';

/** A dotted C member path relative to the rule's struct ('' = the whole struct). */
export type Path = string;

/**
 * How many elements a buffer has. Evaluated in each phase: in PRE against pre-call values (the
 * capacity the caller offers), in POST against post-call values (what the hypervisor filled).
 */
export type Count =
  | number
  | { readonly field: Path; readonly plus?: number; readonly times?: number; readonly square?: boolean; readonly div?: number }
  | { readonly arg: number }
  /** The hypercall's non-negative return value (elements done, bytes written). */
  | { readonly result: true }
  /** Bits → bytes: ceil(field / 8). */
  | { readonly bits: Path }
  | { readonly min: readonly Count[] };

/** Where a buffer lives. */
export type Pointer =
  /** A guest handle (u64 pointer) member of the current struct. */
  | Path
  /** A raw hypercall argument. */
  | { readonly arg: number }
  /** Inline after the struct start at this byte offset (flexible array members). */
  | { readonly inline: number }
  /** The u64 stored at (hypercall argument `argPtr`) + `offset` (dm_op's first buffer). */
  | { readonly argPtr: number; readonly offset: number };

export interface BufDecl {
  readonly ptr: Pointer;
  /** Element type, or element size in bytes. */
  readonly elem: CType | number;
  /** Elements the caller offers (PRE) — and, unless postCount says otherwise, those filled (POST). */
  readonly count: Count;
  /** Elements the hypervisor filled, evaluated after the call (default: `count`). */
  readonly postCount?: Count;
  /** `none`: only the per-element rules apply (a struct reached through a descriptor). */
  readonly dir: 'in' | 'out' | 'inout' | 'none';
  /** A NULL handle is legitimate (size queries): nothing to check. */
  readonly nullOk?: boolean;
  /** Rules applied to each element (struct elements that carry handles of their own). */
  readonly each?: readonly Rule[];
  /** Name used in messages instead of `*<ptr>`. */
  readonly name?: string;
}

/** A named case of a selector (a sub-sub-op such as cpupool_op INFO). */
export interface Case {
  readonly name: string;
  readonly rules: readonly Rule[];
  readonly since?: Release;
  readonly until?: Release;
}

export type Rule =
  /** The hypervisor reads these members (must be addressable and defined). */
  | { readonly in: readonly Path[] }
  /** The hypervisor writes these members (addressable before; defined after success). */
  | { readonly out: readonly Path[] }
  /** Read, then written back. */
  | { readonly inout: readonly Path[] }
  | { readonly buf: BufDecl }
  /** Dispatch on a member's (pre-call) value; an undeclared value warns once. */
  | { readonly select: Path; readonly cases: Readonly<Record<number, Case>>; readonly ignoreUnknown?: boolean }
  /** Rules that apply only when `(member & mask) != 0` (or `== eq`). */
  | { readonly when: Path; readonly mask?: number; readonly eq?: number; readonly then: readonly Rule[]; readonly else?: readonly Rule[] }
  /** Rules that apply only when hypercall argument `arg` satisfies the test. */
  | { readonly whenArg: number; readonly nonzero?: boolean; readonly then: readonly Rule[] };

/** How a sub-op's struct is reached. */
export interface Root {
  /** The hypercall argument holding the pointer. */
  readonly arg: number;
  readonly type: StructType;
  /** An array of this many structs (grant_table_op's `count`), each checked with the rules. */
  readonly countArg?: number;
}

export interface SubOp {
  readonly name: string;
  readonly value: number;
  /** Releases in which this sub-op (with this layout/member name) exists. */
  readonly since?: Release;
  readonly until?: Release;
  /** Envelope hypercalls: the union member under `u`. Rules are relative to `u.<member>`. */
  readonly member?: string;
  /** Argument-pointer hypercalls: the struct the rules apply to. */
  readonly root?: Root;
  readonly rules: readonly Rule[];
  /** Envelope members this sub-op writes (domctl getdomaininfo/createdomain write `domain`). */
  readonly envOut?: readonly Path[];
}

/** A hypercall whose arguments point at an envelope struct carrying cmd (and a version). */
export interface EnvelopeShape {
  readonly kind: 'envelope';
  readonly arg: number;
  readonly type: StructType;
  /** Envelope members the hypervisor always reads before dispatch. */
  readonly header: readonly Path[];
  readonly cmd: Path;
  readonly version?: {
    readonly field: Path;
    /** The release whose layouts an interface version denotes; undefined = unsupported. */
    readonly release: (v: number) => Release | undefined;
  };
}

/** A hypercall whose sub-op is an argument (memory_op, xen_version, …). */
export interface ArgShape {
  readonly kind: 'arg';
  readonly arg: number;
  /** Mask applied to the argument (memory_op keeps continuation state above bit 6). */
  readonly mask?: bigint;
}

/** A hypercall without sub-ops: the rules apply directly (mmuext_op, dm_op, console_io…). */
export interface PlainShape {
  readonly kind: 'plain';
}

export interface HypercallDecl {
  readonly nr: number;
  readonly name: string;
  /** Argument names in Xen's prototype; their count is how many privcmd arg slots are read. */
  readonly args: readonly string[];
  readonly shape: EnvelopeShape | ArgShape | PlainShape;
  readonly subops: readonly SubOp[];
  /** Plain hypercalls: the rules. */
  readonly rules?: readonly Rule[];
  /** Release used for layouts when the hypercall carries no interface version. */
  readonly release?: Release;
}
