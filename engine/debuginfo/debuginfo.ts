/**
 * Debug information of a guest process: its modules, symbols, source lines, inlined frames and
 * stack unwinding, through elfutils libdw (see /work/shared/reference/libdw.md). One instance per
 * guest address space.
 */
import { resolve as resolvePath } from 'node:path';
import { demangle } from './demangle';
import type { StackFrame } from './frame';
import { scopeChain } from './inlines';
import { bestLineAddresses, entryBreakpoints, lineAt, LineAddress, moduleLineAddresses, SourcePos } from './lines';
import { STT_FUNC, STT_GNU_IFUNC } from './libdw';
import { Module, ModuleMap } from './modules';
import { ElfSymbol, SymbolTable } from './symbols';
import { SectionKind, SectionLayout } from './sections';
import { GuestMemory, Unwinder } from './unwind';

export type { StackFrame } from './frame';
export type { GuestMemory } from './unwind';
export type { ElfSymbol } from './symbols';
export type { LineAddress } from './lines';
export type { SectionKind } from './sections';

/** The code symbol covering an address. */
export interface SymbolRef {
  /** Linkage name (mangled for C++), without its version suffix. */
  name: string;
  start: number;
  size: number;
  /** Path of the module that defines it. */
  module: string;
}

/** A function symbol found by name. */
export interface FoundSymbol {
  address: number;
  size: number;
  module: string;
  /** STT_FUNC (2) or STT_GNU_IFUNC (10): for an IFUNC, `address` is the resolver. */
  type: number;
  /** Version suffix with its `@`/`@@`, or ''. */
  version: string;
}

/** A reported module, as listed by `modules()`. */
export interface ModuleInfo {
  path: string;
  bias: number;
  start: number;
  end: number;
}

export interface DebugInfoOptions {
  /** libdwfl's separate-debug-file search path; default ":.debug:/usr/lib/debug". */
  debugInfoPath?: string;
}

/** libdwfl's default search path: the object's directory, its .debug subdirectory, /usr/lib/debug. */
export const DEFAULT_DEBUGINFO_PATH = ':.debug:/usr/lib/debug';

/**
 * The search path for Valgrind's `--extra-debuginfo-path=DIR`: the default places, then DIR as a
 * further root like /usr/lib/debug (libdwfl looks there for `.build-id/xx/yyyy.debug` and for
 * `DIR<object's dir>/<debuglink name>`, as Valgrind does). A relative DIR is taken from the
 * current directory. Undefined (libdwfl's default) without DIR.
 */
export function debugInfoSearchPath(extraDir: string | undefined): string | undefined {
  if (!extraDir) return undefined;
  return `${DEFAULT_DEBUGINFO_PATH}:${resolvePath(extraDir)}`;
}

export class DebugInfo {
  private readonly map: ModuleMap;
  private readonly unwinder: Unwinder;
  private readonly tables = new WeakMap<Module, SymbolTable>();
  private readonly dataTables = new WeakMap<Module, SymbolTable>();
  private readonly layouts = new WeakMap<Module, SectionLayout>();
  private readonly memo = new Map<number, StackFrame[]>();

  /** Starts an empty libdwfl session. Throws if libdw cannot be loaded. */
  constructor(options: DebugInfoOptions = {}) {
    this.map = new ModuleMap(options.debugInfoPath);
    this.unwinder = new Unwinder(this.map);
  }

  /**
   * Adds an ELF object mapped by the guest. `loadBias` is where its vaddr 0 lands (0 for
   * ET_EXEC). Separate debug info is found by build-id / .gnu_debuglink when first needed.
   * Reporting the same object at the same bias twice is a no-op. Throws with libdwfl's message
   * when the file cannot be used (missing, not ELF, overlapping another module).
   */
  reportModule(path: string, loadBias: number): void {
    const mod = this.map.report(path, loadBias);
    // Addresses symbolized before as "no module" may belong to the new one.
    this.dropCaches(mod.start, mod.end);
  }

  /**
   * Forgets the modules overlapping [start, end) (munmap), or with `end` omitted the module
   * whose load bias or start address is `start`.
   */
  removeModule(start: number, end?: number): void {
    for (const m of this.map.remove(start, end)) this.dropCaches(m.start, m.end);
  }

  /** The reported modules, sorted by address. */
  modules(): ModuleInfo[] {
    return this.map.all().map((m) => ({ path: m.path, bias: m.bias, start: m.start, end: m.end }));
  }

  /** Path of the separate debug file libdwfl uses for the module at `path`, if any. */
  debugFile(path: string): string | undefined {
    return this.map.debugFile(this.moduleByPath(path));
  }

  /**
   * The frames at `pc`, innermost first: one per inlined call active there, then the physical
   * function. All carry `ip = pc`, as Valgrind prints them. The physical function's name comes
   * from the ELF symbol table (demangled), inlined ones from DWARF (unqualified, as Valgrind 3.19
   * prints them). A symbol table name keeps the version it is spelled with there: glibc's
   * separate debug file has `_IO_file_overflow@@GLIBC_2.2.5` in its .symtab (from `.symver`), and
   * Valgrind 3.19 prints, matches suppressions against and generates them with that name; a
   * .dynsym name has no version in its spelling (it lives in .gnu.version) and Valgrind shows none.
   * A versioned C++ name is not demangled (the suffix defeats the demangler, in Valgrind too).
   * Memoized by pc: callers must not modify the result.
   */
  symbolize(pc: number): StackFrame[] {
    const hit = this.memo.get(pc);
    if (hit) return hit;
    const frames = this.computeFrames(pc);
    this.memo.set(pc, frames);
    return frames;
  }

  /** The code symbol containing `pc` (JS table lookup, no FFI after the module's first use). */
  symbolAt(pc: number): SymbolRef | undefined {
    const mod = this.map.find(pc);
    if (!mod) return undefined;
    const s = this.table(mod).lookup(pc);
    return s && { name: s.name, start: s.address, size: s.size, module: mod.path };
  }

  /**
   * Every function (STT_FUNC or STT_GNU_IFUNC) symbol called `name` in the loaded modules,
   * including versioned definitions (`name@@VER`, `name@VER`).
   */
  findSymbols(name: string): FoundSymbol[] {
    const out: FoundSymbol[] = [];
    for (const mod of this.map.all()) {
      const seen = new Set<number>();
      for (const s of this.table(mod).named(name)) {
        if (s.type !== STT_FUNC && s.type !== STT_GNU_IFUNC) continue;
        if (seen.has(s.address)) continue;
        seen.add(s.address);
        out.push({ address: s.address, size: s.size, module: mod.path, type: s.type, version: s.version });
      }
    }
    return out;
  }

  /**
   * The data symbol whose extent holds `addr`, and the offset of addr in it: Valgrind's
   * description "N bytes inside data symbol "name"". The name is the symbol table's spelling,
   * neither demangled nor stripped of its version, as Valgrind prints it.
   */
  dataSymbolAt(addr: number): { name: string; offset: number } | undefined {
    const mod = this.map.find(addr);
    if (!mod) return undefined;
    const s = this.dataTable(mod).lookup(addr);
    return s && { name: s.name + s.version, offset: addr - s.address };
  }

  /** The kind of section (Text, Data, BSS, GOT, PLT, GOTPLT, OPD) holding addr, with its object's path. */
  sectionAt(addr: number): { kind: SectionKind; obj: string } | undefined {
    const mod = this.map.find(addr);
    const kind = mod && this.layout(mod).kindAt(addr);
    return kind && mod && { kind, obj: mod.path };
  }

  /** All defined symbols of the module reported under `path` (absolute addresses). */
  moduleSymbols(path: string): readonly ElfSymbol[] {
    return this.table(this.moduleByPath(path)).symbols;
  }

  /**
   * Return addresses of the guest's frames, innermost first; frame 0 is rip. See
   * Unwinder.unwind for the stopping rules.
   *
   * @param regs 17 registers in DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8–r15, rip = 16.
   */
  unwind(regs: BigUint64Array, mem: GuestMemory, maxFrames: number): number[] {
    return this.unwinder.unwind(regs, mem, maxFrames);
  }

  /**
   * The symbolized stack, with Valgrind's conventions. Valgrind 3.19 prints, for every frame but
   * the first, the return address minus one (measured: a `call` at 0x1172 returning to 0x1177 is
   * printed "by 0x...176" with the PIE at 0x108000), and looks up symbol and line at that
   * address, so the caller's line is the line of the call. Frame 0 (and a frame interrupted by a
   * signal) keeps its exact pc. Inlined calls expand into several frames with the same ip.
   */
  stackTrace(regs: BigUint64Array, mem: GuestMemory, maxFrames: number): StackFrame[] {
    return this.framesForPcs(this.stackPcs(regs, mem, maxFrames));
  }

  /**
   * The addresses stackTrace would symbolize, without symbolizing them: the exact pc for frame 0
   * (and signal frames), the return address minus one for callers. Cheap enough to record at
   * every allocation; framesForPcs turns them into frames when a report needs them. `sps`, if
   * given, receives each frame's stack pointer.
   */
  stackPcs(regs: BigUint64Array, mem: GuestMemory, maxFrames: number, sps?: number[]): number[] {
    const exact: boolean[] = [];
    const pcs = this.unwinder.unwind(regs, mem, maxFrames, exact, sps);
    return pcs.map((pc, i) => (exact[i] ? pc : pc - 1));
  }

  /** Symbolized frames of addresses recorded by stackPcs (inlined calls expanded). */
  framesForPcs(pcs: readonly number[]): StackFrame[] {
    const out: StackFrame[] = [];
    for (const pc of pcs) for (const f of this.symbolize(pc)) out.push(f);
    return out;
  }

  /**
   * Breakpoint addresses for a source line: `file` is a base name (matches that name in any
   * directory) or the full path recorded in the line table. When the line has no code the next
   * line that has is used, and `line` in the result says which. Deduplicated is_stmt rows.
   */
  lineToAddresses(file: string, line: number): LineAddress[] {
    const found: LineAddress[] = [];
    for (const mod of this.map.all()) found.push(...moduleLineAddresses(mod.handle, file, line));
    return bestLineAddresses(found);
  }

  /**
   * Breakpoint addresses for entering function `name` (linkage name): after the prologue when
   * DWARF says where it ends, otherwise the symbol address.
   */
  functionEntries(name: string): number[] {
    const out = new Set<number>();
    for (const s of this.findSymbols(name)) {
      const mod = this.map.find(s.address);
      const after = mod && s.type === STT_FUNC ? entryBreakpoints(mod.handle, s.address) : [];
      if (after.length === 0) out.add(s.address);
      for (const a of after) out.add(a);
    }
    return [...out];
  }

  /** Ends the libdw session; the object is unusable afterwards. */
  close(): void {
    this.memo.clear();
    this.map.close();
  }

  private computeFrames(pc: number): StackFrame[] {
    const mod = this.map.find(pc);
    if (!mod) return [{ ip: pc }];
    const sym = this.table(mod).lookup(pc);
    const physical = sym ? demangle(sym.name + sym.version) : undefined;
    const pos = lineAt(mod.handle, pc);
    const chain = scopeChain(mod.handle, pc, pos);
    if (chain.length === 0) return [frame(pc, physical, mod, pos, false)];
    return chain.map((l) => frame(pc, l.inlined ? l.name : physical ?? l.name, mod, l.pos, l.inlined));
  }

  private layout(mod: Module): SectionLayout {
    let l = this.layouts.get(mod);
    if (!l) {
      l = SectionLayout.read(mod.path, mod.bias);
      this.layouts.set(mod, l);
    }
    return l;
  }

  private dataTable(mod: Module): SymbolTable {
    let t = this.dataTables.get(mod);
    if (!t) {
      const layout = this.layout(mod);
      t = new SymbolTable(this.table(mod).symbols, (s) => layout.isDataSymbol(s));
      this.dataTables.set(mod, t);
    }
    return t;
  }

  private table(mod: Module): SymbolTable {
    let t = this.tables.get(mod);
    if (!t) {
      t = SymbolTable.load(mod.handle);
      this.tables.set(mod, t);
    }
    return t;
  }

  private moduleByPath(path: string): Module {
    const mod = this.map.all().find((m) => m.path === path);
    if (!mod) throw new Error(`no module reported for ${path}`);
    return mod;
  }

  private dropCaches(start: number, end: number): void {
    // Unwind rules are cached per Module object, so they go with the module itself.
    for (const k of this.memo.keys()) if (k >= start && k < end) this.memo.delete(k);
  }
}

function frame(ip: number, fn: string | undefined, mod: Module, pos: SourcePos | undefined, inlined: boolean): StackFrame {
  const f: StackFrame = { ip, obj: mod.path };
  if (fn !== undefined) f.fn = fn;
  if (pos) {
    const slash = pos.path.lastIndexOf('/');
    if (slash >= 0) f.dir = pos.path.slice(0, slash);
    f.file = pos.path.slice(slash + 1);
    f.line = pos.line;
  }
  if (inlined) f.inlined = true;
  return f;
}
