/**
 * Builders of error records with Valgrind's exact primary lines (memcheck's `pp_Error`), and the
 * inverse: recovering the structured facts from a kind and a `<what>` text read from XML.
 */
import type { AuxItem, ErrorFrame, ErrorKind, ErrorRecord, LeakInfo, LeakState } from './error-record';
import { leakKindOf, leakStateOf } from './error-record';
import { hexAlt, withCommas, withDelta } from './format';

/** Fields every builder accepts besides its own. */
export interface Common {
  stack: ErrorFrame[];
  aux?: AuxItem[];
  tid?: number;
  threadName?: string;
  address?: number;
}

function base(kind: ErrorKind, what: string, c: Common): ErrorRecord {
  const rec: ErrorRecord = { kind, what, stack: c.stack, aux: c.aux ?? [], tid: c.tid ?? 1 };
  if (c.threadName !== undefined) rec.threadName = c.threadName;
  if (c.address !== undefined) rec.address = c.address;
  return rec;
}

/** "Invalid read/write of size N" (Addr errors). */
export function invalidAccess(write: boolean, size: number, c: Common): ErrorRecord {
  const rec = base(write ? 'InvalidWrite' : 'InvalidRead', `Invalid ${write ? 'write' : 'read'} of size ${size}`, c);
  rec.size = size;
  return rec;
}

/** "Conditional jump or move depends on uninitialised value(s)". */
export function uninitCondition(c: Common): ErrorRecord {
  return base('UninitCondition', 'Conditional jump or move depends on uninitialised value(s)', c);
}

/** "Use of uninitialised value of size N". */
export function uninitValue(size: number, c: Common): ErrorRecord {
  const rec = base('UninitValue', `Use of uninitialised value of size ${size}`, c);
  rec.size = size;
  return rec;
}

/** Syscall parameter passed in a register: "Syscall param NAME contains uninitialised byte(s)". */
export function syscallParamRegister(name: string, c: Common): ErrorRecord {
  const rec = base('SyscallParam', `Syscall param ${name} contains uninitialised byte(s)`, c);
  rec.syscallParam = { name, where: 'register' };
  return rec;
}

/** Syscall parameter pointing to memory: "… points to unaddressable|uninitialised byte(s)". */
export function syscallParamMemory(name: string, unaddressable: boolean, c: Common): ErrorRecord {
  const rec = base('SyscallParam',
    `Syscall param ${name} points to ${unaddressable ? 'unaddressable' : 'uninitialised'} byte(s)`, c);
  rec.syscallParam = { name, where: 'memory', unaddressable };
  return rec;
}

/** VALGRIND_CHECK_MEM_IS_* failure. */
export function clientCheck(unaddressable: boolean, c: Common): ErrorRecord {
  const rec = base('ClientCheck',
    `${unaddressable ? 'Unaddressable' : 'Uninitialised'} byte(s) found during client check request`, c);
  rec.unaddressable = unaddressable;
  return rec;
}

/** free/delete/realloc of something that is not a live heap block. */
export function invalidFree(c: Common): ErrorRecord {
  return base('InvalidFree', 'Invalid free() / delete / delete[] / realloc()', c);
}

/** Deallocation by the wrong family (note Valgrind's space in "delete []"). */
export function mismatchedFree(c: Common): ErrorRecord {
  return base('MismatchedFree', 'Mismatched free() / delete / delete []', c);
}

/** Overlapping source and destination in a string/memory function; `len` 0 or absent gives the
 * two-argument form. */
export function overlap(fn: string, dst: number, src: number, len: number | undefined, c: Common): ErrorRecord {
  const sized = len !== undefined && len !== 0;
  const what = sized
    ? `Source and destination overlap in ${fn}(${hexAlt(dst)}, ${hexAlt(src)}, ${len})`
    : `Source and destination overlap in ${fn}(${hexAlt(dst)}, ${hexAlt(src)})`;
  const rec = base('Overlap', what, c);
  rec.overlap = sized ? { fn, dst, src, len } : { fn, dst, src };
  return rec;
}

/** Jump to an unaddressable address. */
export function invalidJump(c: Common): ErrorRecord {
  return base('InvalidJump', 'Jump to the invalid address stated on the next line', c);
}

/** Mempool client request on an address that is no pool. */
export function invalidMemPool(c: Common): ErrorRecord {
  return base('InvalidMemPool', 'Illegal memory pool address', c);
}

/** Unaddressable bytes in core operations (signal frames). */
export function coreMemError(description: string, c: Common): ErrorRecord {
  const rec = base('CoreMemError', `${description} contains unaddressable byte(s)`, c);
  rec.coreMem = description;
  return rec;
}

/** A negative size given to an allocation function. */
export function fishyValue(fn: string, arg: string, value: number, c: Common): ErrorRecord {
  const rec = base('FishyValue',
    `Argument '${arg}' of function ${fn} has a fishy (possibly negative) value: ${value}`, c);
  rec.fishy = { fn, arg, value };
  return rec;
}

/** How Valgrind's loss-record lines name each leak state ("… are definitely lost in …"). */
export const LEAK_STATE_WORDS: Readonly<Record<LeakState, string>> = {
  definite: 'definitely lost',
  indirect: 'indirectly lost',
  possible: 'possibly lost',
  reachable: 'still reachable',
};

/** The loss-record line: "B bytes in N blocks are <state> in loss record X of Y", with
 * "(D direct, I indirect)" when indirect bytes hang off the record, and every figure followed by
 * its change ("7 (+7) bytes in 1 (+1) blocks") when the record carries the previous search's. */
export function lossRecordText(leak: LeakInfo): string {
  const o = leak.old;
  const tail = `in ${withDelta(leak.blocks, o?.blocks)} blocks are ${LEAK_STATE_WORDS[leak.state]} in loss record ${withCommas(leak.recordNo)} of ${withCommas(leak.totalRecords)}`;
  if (leak.indirectBytes > 0) {
    return `${withDelta(leak.bytes + leak.indirectBytes, o && o.bytes + o.indirectBytes)} (${withDelta(leak.bytes, o?.bytes)} direct, `
      + `${withDelta(leak.indirectBytes, o?.indirectBytes)} indirect) bytes ${tail}`;
  }
  return `${withDelta(leak.bytes, o?.bytes)} bytes ${tail}`;
}

/** A leak loss record as an error (its stack is the allocation stack). */
export function lossRecord(leak: LeakInfo, c: Common): ErrorRecord {
  const rec = base(leakKindOf(leak.state), lossRecordText(leak), c);
  rec.leak = { ...leak };
  return rec;
}

function num(s: string): number {
  return Number(s.replace(/,/g, ''));
}

/**
 * Recover the structured facts of a record whose kind and primary text were read from XML
 * (sizes, syscall parameter, overlap arguments, fishy value, client-check flavour, leak numbers).
 * Fields already set are kept. Unknown wording leaves the record as it is.
 */
export function completeFromWhat(rec: ErrorRecord): ErrorRecord {
  const what = rec.what;
  let m: RegExpExecArray | null;
  switch (rec.kind) {
    case 'InvalidRead':
    case 'InvalidWrite':
      if ((m = /^Invalid (?:read|write) of size (\d+)/.exec(what))) rec.size ??= num(m[1]);
      break;
    case 'UninitValue':
      if ((m = /^Use of uninitialised value of size (\d+)/.exec(what))) rec.size ??= num(m[1]);
      break;
    case 'SyscallParam':
      if ((m = /^Syscall param (.*) contains uninitialised byte\(s\)$/.exec(what))) {
        rec.syscallParam ??= { name: m[1], where: 'register' };
      } else if ((m = /^Syscall param (.*) points to (unaddressable|uninitialised) byte\(s\)$/.exec(what))) {
        rec.syscallParam ??= { name: m[1], where: 'memory', unaddressable: m[2] === 'unaddressable' };
      }
      break;
    case 'ClientCheck':
      if ((m = /^(Unaddressable|Uninitialised) byte\(s\) found/.exec(what))) rec.unaddressable ??= m[1] === 'Unaddressable';
      break;
    case 'CoreMemError':
      if ((m = /^(.*) contains unaddressable byte\(s\)$/.exec(what))) rec.coreMem ??= m[1];
      break;
    case 'Overlap':
      if ((m = /^Source and destination overlap in (.*)\((0x[0-9a-f]+|0), (0x[0-9a-f]+|0)(?:, (\d+))?\)\n?$/.exec(what))) {
        const o: { fn: string; dst: number; src: number; len?: number } = { fn: m[1], dst: Number(m[2]), src: Number(m[3]) };
        if (m[4] !== undefined) o.len = Number(m[4]);
        rec.overlap ??= o;
      }
      break;
    case 'FishyValue':
      if ((m = /^Argument '(.*)' of function (.*) has a fishy \(possibly negative\) value: (-?\d+)\n?$/.exec(what))) {
        rec.fishy ??= { arg: m[1], fn: m[2], value: Number(m[3]) };
      }
      break;
    default: {
      const state = leakStateOf(rec.kind);
      if (state && !rec.leak) {
        // Figures of a delta search carry " (+N)" / " (-N)" (skipped here: the figures are what count).
        const d = '(?: \\([+-][\\d,]+\\))?';
        const lm = new RegExp(`^([\\d,]+)${d}(?: \\(([\\d,]+)${d} direct, ([\\d,]+)${d} indirect\\))? bytes in ([\\d,]+)${d} blocks are .* in (?:new )?loss record ([\\d,]+) of ([\\d,]+)`).exec(what);
        if (lm) {
          const direct = lm[2] !== undefined ? num(lm[2]) : num(lm[1]);
          rec.leak = {
            state,
            bytes: direct,
            indirectBytes: lm[3] !== undefined ? num(lm[3]) : 0,
            blocks: num(lm[4]),
            recordNo: num(lm[5]),
            totalRecords: num(lm[6]),
          };
        }
      }
    }
  }
  return rec;
}
