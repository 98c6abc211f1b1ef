/**
 * Per-module ELF symbol tables, read once through libdwfl and searched in JS.
 *
 * `dwfl_module_addrinfo` scans linearly (about 135 µs per lookup in libc); a sorted JS array
 * answers in tens of nanoseconds. libdwfl still does the format work: it picks .symtab from the
 * separate debug file when the loaded object only has .dynsym, and applies the load bias.
 */
import {
  libdw, SHN_ABS, SHN_UNDEF, SIZEOF_SYM, STT_FILE, STT_FUNC, STT_GNU_IFUNC, STT_NOTYPE, STT_SECTION, STT_TLS,
} from './libdw';

/** One defined symbol of a module. */
export interface ElfSymbol {
  /** Name without the symbol version (`memcpy` for `memcpy@@GLIBC_2.14`). */
  readonly name: string;
  /** The version suffix including its `@` or `@@`, or '' when unversioned. */
  readonly version: string;
  /** Absolute (load-biased) address. */
  readonly address: number;
  readonly size: number;
  /** STT_* type: 0 NOTYPE, 1 OBJECT, 2 FUNC, 6 TLS, 10 GNU_IFUNC, … */
  readonly type: number;
  /** STB_* binding: 0 LOCAL, 1 GLOBAL, 2 WEAK, 10 GNU_UNIQUE. */
  readonly bind: number;
}

const symBuf = Buffer.alloc(SIZEOF_SYM);
const addrOut = new BigUint64Array(1);
const shndxOut = new Uint32Array(1);

/** Reads every defined symbol of a Dwfl_Module (absolute addresses). */
export function readModuleSymbols(handle: bigint): ElfSymbol[] {
  const dw = libdw();
  const n = dw.dwfl_module_getsymtab(handle);
  if (n <= 0) return []; // -1: no symbol table at all (a stripped object without debug file)
  const out: ElfSymbol[] = [];
  for (let i = 1; i < n; i++) {
    const raw = dw.dwfl_module_getsym_info(handle, i, symBuf, addrOut, shndxOut, null, null);
    if (!raw) continue;
    const info = symBuf.readUInt8(4);
    const type = info & 0xf;
    const shndx = shndxOut[0];
    if (shndx === SHN_UNDEF || shndx === SHN_ABS) continue; // imports; absolute values are not addresses
    if (type === STT_SECTION || type === STT_FILE) continue;
    const at = raw.indexOf('@');
    out.push({
      name: at < 0 ? raw : raw.slice(0, at),
      version: at < 0 ? '' : raw.slice(at),
      address: Number(addrOut[0]),
      size: Number(symBuf.readBigUInt64LE(16)),
      type,
      bind: info >> 4,
    });
  }
  return out;
}

/** Whether a symbol can name code for address lookups. */
function isCode(s: ElfSymbol): boolean {
  if (s.type === STT_FUNC || s.type === STT_GNU_IFUNC) return true;
  // Hand-written assembly sometimes lacks .type; keep such labels when they have a size.
  return s.type === STT_NOTYPE && s.size > 0;
}

/**
 * Valgrind's choice between two symbols with the same address range (storage.c prefersym):
 * the shorter name ignoring the version, then the versioned one, then alphabetical order.
 * Returns true if `a` is preferred.
 */
export function preferSymbol(a: ElfSymbol, b: ElfSymbol): boolean {
  if (a.name.length !== b.name.length) {
    if (a.name.length === 0) return false;
    if (b.name.length === 0) return true;
    return a.name.length < b.name.length;
  }
  if ((a.version !== '') !== (b.version !== '')) return a.version !== '';
  const fa = a.name + a.version;
  const fb = b.name + b.version;
  return fa <= fb;
}

/**
 * A module's symbols, indexed by address (code only, or those `keep` selects, such as data
 * symbols) and by name (all).
 */
export class SymbolTable {
  /** Kept symbols sorted by address; for one address, larger first (see lookup). */
  private readonly code: ElfSymbol[];
  /** maxEnd[i] = max(address + size) over code[0..i]: bounds the backward scan in lookup. */
  private readonly maxEnd: Float64Array;
  private byName: Map<string, ElfSymbol[]> | undefined;

  constructor(readonly symbols: readonly ElfSymbol[], keep: (s: ElfSymbol) => boolean = isCode) {
    const code = symbols.filter((s) => keep(s) && s.size > 0 && s.type !== STT_TLS);
    code.sort((a, b) => a.address - b.address || b.size - a.size);
    // Aliases (same address and size): keep the name Valgrind would print.
    const merged: ElfSymbol[] = [];
    for (const s of code) {
      const last = merged[merged.length - 1];
      if (last && last.address === s.address && last.size === s.size) {
        if (!preferSymbol(last, s)) merged[merged.length - 1] = s;
      } else {
        merged.push(s);
      }
    }
    this.code = merged;
    this.maxEnd = new Float64Array(merged.length);
    let m = 0;
    for (let i = 0; i < merged.length; i++) {
      m = Math.max(m, merged[i].address + merged[i].size);
      this.maxEnd[i] = m;
    }
  }

  /** Reads the table of a Dwfl_Module. */
  static load(handle: bigint): SymbolTable {
    return new SymbolTable(readModuleSymbols(handle));
  }

  /**
   * The innermost kept symbol whose [address, address + size) contains `addr`. Nested or
   * overlapping symbols are allowed: the scan goes backwards from the last symbol starting at or
   * below addr, and stops as soon as no earlier symbol can reach addr.
   */
  lookup(addr: number): ElfSymbol | undefined {
    const c = this.code;
    let lo = 0;
    let hi = c.length - 1;
    let idx = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid].address <= addr) {
        idx = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    for (let i = idx; i >= 0 && this.maxEnd[i] > addr; i--) {
      const s = c[i];
      if (addr < s.address + s.size) return s;
    }
    return undefined;
  }

  /** All symbols (any type) called `name`, whatever their version. */
  named(name: string): readonly ElfSymbol[] {
    if (!this.byName) {
      this.byName = new Map();
      for (const s of this.symbols) {
        const list = this.byName.get(s.name);
        if (list) list.push(s);
        else this.byName.set(s.name, [s]);
      }
    }
    return this.byName.get(name) ?? [];
  }
}
