/**
 * The few ELF sections of a loaded object that Valgrind's address descriptions know by name:
 * .text, .data, .sdata, .rodata, .bss, .sbss, .plt, .got, .got.plt and .opd. They decide which
 * symbols are data symbols ("N bytes inside data symbol …") and which part of an object an
 * address lies in ("is in the BSS segment of …"). Read once per object from its section headers
 * (elfy); the separate debug file has the same addresses, so the loaded file suffices.
 */
import * as fs from 'node:fs';
import elfy from 'elfy';
import type { ElfSymbol } from './symbols';
import { STT_FUNC, STT_GNU_IFUNC, STT_OBJECT } from './libdw';

/** How Valgrind names the part of an object an address is in. */
export type SectionKind = 'Text' | 'Data' | 'BSS' | 'GOT' | 'PLT' | 'OPD' | 'GOTPLT';

/** [start, end) at the object's load address. */
interface Range { start: number; end: number }

/** The named sections of one object, at its load address (absent or empty ones left out). */
export class SectionLayout {
  private readonly ranges = new Map<string, Range>();

  /** @param sections name, address (file vaddr) and size of each section header */
  constructor(sections: ReadonlyArray<{ name: string; addr: number; size: number }>, bias: number) {
    for (const s of sections) {
      if (!NAMES.has(s.name) || s.size === 0 || this.ranges.has(s.name)) continue;
      this.ranges.set(s.name, { start: s.addr + bias, end: s.addr + bias + s.size });
    }
  }

  /** Reads the section headers of the object file at path; an unreadable file has no sections. */
  static read(path: string, bias: number): SectionLayout {
    try {
      return new SectionLayout(elfy.parse(fs.readFileSync(path)).body.sections, bias);
    } catch {
      return new SectionLayout([], bias);
    }
  }

  /** The kind of the section holding addr, in Valgrind's order of checks; undefined for others (.rodata among them). */
  kindAt(addr: number): SectionKind | undefined {
    for (const [name, kind] of KIND_ORDER) if (this.has(name, addr)) return kind;
    return undefined;
  }

  /**
   * Whether a symbol names data, as Valgrind's ELF reader classifies it: a function or object
   * (global, local or weak) with a name, a size and a non-zero value, whose address falls in
   * .data, .sdata, .rodata, .bss or .sbss (anything else counts as text).
   */
  isDataSymbol(s: ElfSymbol): boolean {
    if (s.type !== STT_OBJECT && s.type !== STT_FUNC && s.type !== STT_GNU_IFUNC) return false;
    if (s.bind > 2 || s.size === 0 || s.name === '') return false;
    if (this.has('.text', s.address)) return false;
    return DATA_SECTIONS.some((n) => this.has(n, s.address));
  }

  private has(name: string, addr: number): boolean {
    const r = this.ranges.get(name);
    return r !== undefined && addr >= r.start && addr < r.end;
  }
}

const KIND_ORDER: ReadonlyArray<[string, SectionKind]> = [
  ['.text', 'Text'], ['.data', 'Data'], ['.sdata', 'Data'], ['.bss', 'BSS'], ['.sbss', 'BSS'],
  ['.plt', 'PLT'], ['.got', 'GOT'], ['.got.plt', 'GOTPLT'], ['.opd', 'OPD'],
];
const DATA_SECTIONS = ['.data', '.sdata', '.rodata', '.bss', '.sbss'];
const NAMES = new Set([...KIND_ORDER.map(([n]) => n), ...DATA_SECTIONS]);
