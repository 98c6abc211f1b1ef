/**
 * Address descriptions: the structured facts memcheck knows about a faulting address, turned into
 * the auxiliary lines Valgrind prints after an error's stack (its `pp_addrinfo_WRK` cases, §3 of
 * the reference). Text and XML share these lines; only their framing differs.
 */
import type { AuxItem, ErrorFrame } from './error-record';
import { hexLower, withCommas } from './format';

/** Where a heap or client block stands. */
export type BlockKind =
  | 'mallocd'          // live malloc'd block: "alloc'd" + allocation stack
  | 'freed'            // in the freed-block queue: "free'd" + free stack + "Block was alloc'd at"
  | 'client'           // VALGRIND_CREATE_BLOCK / mempool chunk: "client-defined" + its stack
  | 'arena-allocated'  // inside a block of Valgrind's client arena
  | 'arena-unallocated';

/** The facts of one address description. */
export type AddressInfo =
  | { tag: 'unknown'; addr: number; justBelowStackPointer?: boolean }
  | {
      tag: 'stack';
      addr: number;
      thread: number;
      /** "in frame #N, created by fn (file:line)" when the frame is known. */
      frame?: { no: number; fn?: string; file?: string; line?: number };
      /** Bytes below the stack pointer, when the address is there. */
      belowStackPointer?: { bytes: number; guardPage: boolean };
    }
  | {
      tag: 'block';
      addr: number;
      kind: BlockKind;
      /** "block", "recently re-allocated block", or a client block's description. */
      description?: string;
      size: number;
      /** Offset of addr from the block start (negative before it). */
      offset: number;
      allocStack?: ErrorFrame[];
      freeStack?: ErrorFrame[];
      /** Arena name for arena blocks ("client"). */
      arena?: string;
    }
  | { tag: 'datasym'; addr: number; offset: number; name: string }
  | { tag: 'variable'; lines: AuxItem[] }
  | {
      tag: 'section';
      addr: number;
      section: 'Text' | 'Data' | 'BSS' | 'GOT' | 'PLT' | 'OPD' | 'GOTPLT' | 'Unknown';
      obj: string;
      /** For Text: the stack of the address itself (one address, its inlined calls expanded). */
      textFrames?: ErrorFrame[];
    }
  | { tag: 'brk'; addr: number; base: number; limit: number }
  | {
      tag: 'segment';
      addr: number;
      r: boolean; w: boolean; x: boolean;
      segment: 'anonymous' | 'mapped file' | 'shared memory';
      file?: string;
    };

/** Lines (with stacks) describing an address, as Valgrind prints them after an error. */
export function describeAddress(info: AddressInfo): AuxItem[] {
  switch (info.tag) {
    case 'unknown':
      return [{
        role: 'address',
        text: info.justBelowStackPointer
          ? `Address ${hexLower(info.addr)} is just below the stack ptr.  To suppress, use: --workaround-gcc296-bugs=yes`
          : `Address ${hexLower(info.addr)} is not stack'd, malloc'd or (recently) free'd`,
      }];
    case 'stack': {
      const out: AuxItem[] = [{ role: 'address', text: `Address ${hexLower(info.addr)} is on thread ${info.thread}'s stack` }];
      const f = info.frame;
      if (f && (f.fn !== undefined || f.file !== undefined)) {
        // Valgrind prints the line number only when both file and line are known.
        const line = f.file !== undefined && f.line !== undefined ? String(f.line) : '';
        out.push({ role: 'address', text: `in frame #${f.no}, created by ${f.fn ?? '???'} (${f.file ?? '???'}:${line})` });
      }
      if (info.belowStackPointer) {
        const b = info.belowStackPointer;
        out.push({
          role: 'address',
          text: `${b.guardPage ? 'In stack guard protected page, ' : ''}${b.bytes} bytes below stack pointer`,
        });
      }
      return out;
    }
    case 'block':
      return describeBlock(info);
    case 'datasym':
      return [{ role: 'address', text: `Address ${hexLower(info.addr)} is ${info.offset} bytes inside data symbol "${info.name}"` }];
    case 'variable':
      return info.lines.map((l) => ({ ...l, role: l.role ?? 'address' }));
    case 'section':
      return [{
        role: 'address',
        text: `Address ${hexLower(info.addr)} is in the ${info.section} segment of ${info.obj}`,
        ...(info.section === 'Text' && info.textFrames ? { stack: info.textFrames } : {}),
      }];
    case 'brk':
      return [{
        role: 'address',
        text: info.addr < info.limit
          ? `Address ${hexLower(info.addr)} is in the brk data segment ${hexLower(info.base)}-${hexLower(info.limit - 1)}`
          : `Address ${hexLower(info.addr)} is ${info.addr - info.limit} bytes after the brk data segment limit ${hexLower(info.limit)}`,
      }];
    case 'segment': {
      const perms = (info.r ? 'r' : '-') + (info.w ? 'w' : '-') + (info.x ? 'x' : '-');
      return [{
        role: 'address',
        text: `Address ${hexLower(info.addr)} is in a ${perms} ${info.segment}${info.file !== undefined ? ' ' + info.file : ''} segment`,
      }];
    }
  }
}

function describeBlock(b: Extract<AddressInfo, { tag: 'block' }>): AuxItem[] {
  // The offset is reported relative to the nearer edge: before the start, inside, or past the end.
  let relation: string;
  let delta: number;
  if (b.offset < 0) { relation = 'before'; delta = -b.offset; }
  else if (b.offset >= b.size) { relation = 'after'; delta = b.offset - b.size; }
  else { relation = 'inside'; delta = b.offset; }
  const at = `Address ${hexLower(b.addr)} is ${withCommas(delta)} bytes ${relation}`;

  if (b.kind === 'arena-allocated' || b.kind === 'arena-unallocated') {
    const article = b.kind === 'arena-allocated' ? 'a' : 'an unallocated';
    return [{ role: 'address', text: `${at} ${article} block of size ${withCommas(b.size)} in arena "${b.arena ?? 'client'}"` }];
  }
  const state = b.kind === 'mallocd' ? "alloc'd" : b.kind === 'freed' ? "free'd" : 'client-defined';
  const head: AuxItem = {
    role: 'address',
    text: `${at} a ${b.description ?? 'block'} of size ${withCommas(b.size)} ${state}`,
  };
  if (b.kind === 'freed') {
    const out: AuxItem[] = [{ ...head, role: 'freed', ...(b.freeStack ? { stack: b.freeStack } : {}) }];
    if (b.allocStack) out.push({ role: 'allocated', text: "Block was alloc'd at", stack: b.allocStack });
    return out;
  }
  // Live and client blocks show their allocation (creation) stack right under the line.
  return [{ ...head, ...(b.allocStack ? { stack: b.allocStack } : {}) }];
}

/** Origin kinds of `--track-origins=yes`. */
export type OriginKind = 'stack' | 'heap' | 'client' | 'unknown';

/** The "Uninitialised value was created …" line with its stack. */
export function describeOrigin(kind: OriginKind, stack: ErrorFrame[]): AuxItem {
  const by = kind === 'stack' ? ' by a stack allocation'
    : kind === 'heap' ? ' by a heap allocation'
    : kind === 'client' ? ' by a client request'
    : '';
  return { role: 'origin', text: `Uninitialised value was created${by}`, stack };
}
