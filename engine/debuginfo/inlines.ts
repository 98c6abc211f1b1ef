/**
 * The chain of inlined calls at an address, from DWARF scopes (libdw).
 *
 * `dwarf_getscopes` is not the physical nesting once an inlined subroutine is involved: after
 * the innermost DW_TAG_inlined_subroutine it continues with the scopes of the abstract
 * definition. So, as eu-addr2line does, take the innermost inlined-or-subprogram scope and ask
 * `dwarf_getscopes_die` for its physical chain, then walk outwards. Each inlined level's caller
 * position is its DW_AT_call_file / DW_AT_call_line.
 */
import {
  DW_AT_call_column, DW_AT_call_file, DW_AT_call_line, DW_TAG_inlined_subroutine, DW_TAG_subprogram,
  libdw, SIZEOF_ATTRIBUTE, SIZEOF_DIE,
} from './libdw';
import type { SourcePos } from './lines';

/** One level of the chain: a function instance and where execution is inside it. */
export interface ScopeLevel {
  /** DWARF name (DW_AT_name, following DW_AT_abstract_origin): unqualified, as Valgrind prints it. */
  name: string | undefined;
  /** Position inside this function: the line-table row for the innermost, a call site for the others. */
  pos: SourcePos | undefined;
  /** True for an inlined function instance; false for the physical function (always last). */
  inlined: boolean;
}

const biasOut = new BigUint64Array(1);
const scopesOut = new BigUint64Array(1);
const chainOut = new BigUint64Array(1);
const attrBuf = Buffer.alloc(SIZEOF_ATTRIBUTE);
const udataOut = new BigUint64Array(1);
const filesOut = new BigUint64Array(1);
const nfilesOut = new BigUint64Array(1);

/**
 * The function instances active at absolute address `addr` of module `mod`, innermost first,
 * ending with the physical subprogram. `innermost` is the line-table position of addr. Returns an
 * empty array when addr has no DWARF scope.
 */
export function scopeChain(mod: bigint, addr: number, innermost: SourcePos | undefined): ScopeLevel[] {
  const dw = libdw();
  const cudie = dw.dwfl_module_addrdie(mod, addr, biasOut);
  if (!cudie) return [];
  const rel = BigInt(addr) - biasOut[0];
  scopesOut[0] = 0n;
  const n = dw.dwarf_getscopes(cudie, rel, scopesOut);
  if (n <= 0 || scopesOut[0] === 0n) return [];
  const scopes = scopesOut[0];
  try {
    let fnDie = 0n;
    let tag = 0;
    for (let i = 0; i < n; i++) {
      const d = scopes + BigInt(i * SIZEOF_DIE);
      tag = dw.dwarf_tag(d);
      if (tag === DW_TAG_subprogram || tag === DW_TAG_inlined_subroutine) {
        fnDie = d;
        break;
      }
    }
    if (fnDie === 0n) return [];
    if (tag === DW_TAG_subprogram) {
      return [{ name: dw.dwarf_diename(fnDie) ?? undefined, pos: innermost, inlined: false }];
    }
    return physicalChain(cudie, fnDie, innermost);
  } finally {
    dw.free(scopes);
  }
}

function physicalChain(cudie: bigint, inlinedDie: bigint, innermost: SourcePos | undefined): ScopeLevel[] {
  const dw = libdw();
  chainOut[0] = 0n;
  const m = dw.dwarf_getscopes_die(inlinedDie, chainOut);
  if (m <= 0 || chainOut[0] === 0n) return [];
  const chain = chainOut[0];
  const out: ScopeLevel[] = [];
  let files: bigint | undefined;
  let cur = innermost;
  try {
    for (let j = 0; j < m; j++) {
      const d = chain + BigInt(j * SIZEOF_DIE);
      const tag = dw.dwarf_tag(d);
      if (tag === DW_TAG_inlined_subroutine) {
        out.push({ name: dw.dwarf_diename(d) ?? undefined, pos: cur, inlined: true });
        if (files === undefined) files = srcFiles(cudie);
        cur = callSite(d, files);
      } else if (tag === DW_TAG_subprogram) {
        out.push({ name: dw.dwarf_diename(d) ?? undefined, pos: cur, inlined: false });
        return out;
      }
    }
  } finally {
    dw.free(chain);
  }
  // No enclosing subprogram in the DWARF (malformed or partial units): still end with the
  // physical function, named by the caller from the symbol table.
  out.push({ name: undefined, pos: cur, inlined: false });
  return out;
}

function srcFiles(cudie: bigint): bigint {
  filesOut[0] = 0n;
  return libdw().dwarf_getsrcfiles(cudie, filesOut, nfilesOut) === 0 ? filesOut[0] : 0n;
}

function udata(die: bigint, at: number): number | undefined {
  const dw = libdw();
  const attr = dw.dwarf_attr_integrate(die, at, attrBuf);
  if (!attr || dw.dwarf_formudata(attr, udataOut) !== 0) return undefined;
  return Number(udataOut[0]);
}

/** Where an inlined instance was called from (its caller's current position). */
function callSite(die: bigint, files: bigint): SourcePos | undefined {
  const fileIdx = udata(die, DW_AT_call_file);
  const line = udata(die, DW_AT_call_line);
  if (fileIdx === undefined || line === undefined || files === 0n) return undefined;
  const path = libdw().dwarf_filesrc(files, fileIdx, null, null);
  if (path === null) return undefined;
  return { path, line, column: udata(die, DW_AT_call_column) ?? 0 };
}
