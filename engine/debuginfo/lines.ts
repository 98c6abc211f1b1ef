/**
 * DWARF line tables both ways, through libdwfl: address → file:line for stack frames, and
 * file:line → addresses for breakpoints.
 */
import { DW_TAG_subprogram, libdw, readPointer, SIZEOF_DIE } from './libdw';

/** A source position. `path` is the file name as libdw composes it (directory joined). */
export interface SourcePos {
  path: string;
  line: number;
  column: number;
}

const lineOut = new Int32Array(1);
const colOut = new Int32Array(1);
const addrOut = new BigUint64Array(1);

/** The line-table row covering absolute address `addr` of a module, if it has one. */
export function lineAt(mod: bigint, addr: number): SourcePos | undefined {
  const dw = libdw();
  const row = dw.dwfl_module_getsrc(mod, addr);
  if (!row) return undefined; // no DWARF, or addr not covered by any CU: not an error
  const path = dw.dwfl_lineinfo(row, addrOut, lineOut, colOut, null, null);
  if (path === null || lineOut[0] <= 0) return undefined;
  return { path, line: lineOut[0], column: colOut[0] };
}

/** One breakpoint location for a source line. */
export interface LineAddress {
  /** Absolute address. */
  address: number;
  /** The line actually found: the requested one, or the next line that has code. */
  line: number;
}

const srcsOut = new BigUint64Array(1);
const nsrcsOut = new BigUint64Array(1);
const biasOut = new BigUint64Array(1);
const flagOut = new Uint8Array(1);

/**
 * Addresses of `file`:`line` in one module, as libdwfl's dwfl_module_getsrc_file finds them:
 * `file` without a slash matches any file of that base name, with a slash it must equal the
 * full name in the line table; when `line` has no code the next line with code is used. Only
 * is_stmt rows are kept (the ones a debugger stops on), each address once.
 */
export function moduleLineAddresses(mod: bigint, file: string, line: number): LineAddress[] {
  const dw = libdw();
  srcsOut[0] = 0n;
  nsrcsOut[0] = 0n; // an input too: 0 asks libdwfl to malloc the result array
  const rc = dw.dwfl_module_getsrc_file(mod, file, line, 0, srcsOut, nsrcsOut);
  // rc < 0 covers both "no DWARF" and "no matching address range": neither is an error for a
  // breakpoint request that is tried in every module.
  if (rc < 0 || srcsOut[0] === 0n) return [];
  const arr = srcsOut[0];
  const n = Number(nsrcsOut[0]);
  const seen = new Set<number>();
  const out: LineAddress[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const row = readPointer(arr, i);
      if (dw.dwfl_lineinfo(row, addrOut, lineOut, colOut, null, null) === null) continue;
      const address = Number(addrOut[0]);
      const dline = dw.dwfl_dwarf_line(row, biasOut);
      if (dline && dw.dwarf_linebeginstatement(dline, flagOut) === 0 && flagOut[0] === 0) continue;
      if (seen.has(address)) continue;
      seen.add(address);
      out.push({ address, line: lineOut[0] });
    }
  } finally {
    dw.free(arr);
  }
  return out;
}

/**
 * Merges the per-module answers of one request: only the closest line found anywhere is kept
 * (an exact match in one CU beats a later line in another), sorted by address.
 */
export function bestLineAddresses(found: LineAddress[]): LineAddress[] {
  if (found.length === 0) return found;
  const best = Math.min(...found.map((f) => f.line));
  const seen = new Set<number>();
  return found
    .filter((f) => f.line === best && !seen.has(f.address) && (seen.add(f.address), true))
    .sort((a, b) => a.address - b.address);
}

const scopesOut = new BigUint64Array(1);
const lowpcOut = new BigUint64Array(1);
const bkptsOut = new BigUint64Array(1);

/**
 * Breakpoint addresses for entering the function that starts at absolute address `entry`: the
 * end of its prologue as libdw's dwarf_entry_breakpoints finds it from the line table
 * (prologue_end, or the second line row). Empty when the function has no DWARF.
 */
export function entryBreakpoints(mod: bigint, entry: number): number[] {
  const dw = libdw();
  const cudie = dw.dwfl_module_addrdie(mod, entry, biasOut);
  if (!cudie) return [];
  const bias = biasOut[0];
  const rel = BigInt(entry) - bias;
  scopesOut[0] = 0n;
  const n = dw.dwarf_getscopes(cudie, rel, scopesOut);
  if (n <= 0 || scopesOut[0] === 0n) return [];
  const scopes = scopesOut[0];
  try {
    for (let i = 0; i < n; i++) {
      const die = scopes + BigInt(i * SIZEOF_DIE);
      if (dw.dwarf_tag(die) !== DW_TAG_subprogram) continue;
      if (dw.dwarf_lowpc(die, lowpcOut) !== 0 || lowpcOut[0] !== rel) continue;
      bkptsOut[0] = 0n;
      const m = dw.dwarf_entry_breakpoints(die, bkptsOut);
      if (m <= 0 || bkptsOut[0] === 0n) return [];
      try {
        const out: number[] = [];
        for (let j = 0; j < m; j++) out.push(Number(readPointer(bkptsOut[0], j) + bias));
        return [...new Set(out)];
      } finally {
        dw.free(bkptsOut[0]);
      }
    }
    return [];
  } finally {
    dw.free(scopes);
  }
}
