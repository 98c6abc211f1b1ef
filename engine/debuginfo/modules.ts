/**
 * The guest's loaded ELF objects as one libdwfl session (a `Dwfl`), with a JS index by address.
 *
 * libdwfl finds separate debug info itself (build-id under /usr/lib/debug, .gnu_debuglink) through
 * its standard callbacks; this file only reports and forgets modules. Lookups by address go
 * through a sorted JS array rather than `dwfl_addrmodule`, because the unwinder asks for every
 * frame and an FFI call costs more than a binary search.
 */
import { allocCString, allocStable, dwflError, freeStable, libdw, nativeView, readCString } from './libdw';

/** One reported object. `handle` is its `Dwfl_Module *`; the other fields are plain JS. */
export interface Module {
  /** Host path of the object, as given to reportModule (also its libdwfl name). */
  readonly path: string;
  /** Address where the object's vaddr 0 lands (0 for ET_EXEC). */
  readonly bias: number;
  /** Lowest and one-past-highest address covered by its PT_LOAD segments. */
  readonly start: number;
  readonly end: number;
  /** The libdwfl module; refreshed when modules are re-reported after a removal. */
  handle: bigint;
}

/** A libdwfl session holding the guest's modules. */
export class ModuleMap {
  private readonly dwfl: bigint;
  private readonly callbacks: bigint;
  private readonly debugPath: bigint | undefined;
  private modules: Module[] = [];
  private closed = false;

  /**
   * @param debugInfoPath libdwfl's search path for separate debug files; undefined means its
   *   default (":.debug:/usr/lib/debug"), which finds Debian's -dbg packages by build-id.
   */
  constructor(debugInfoPath?: string) {
    const dw = libdw();
    // Dwfl_Callbacks { find_elf, find_debuginfo, section_address, char **debuginfo_path }.
    // libdwfl keeps the pointer, so the struct (and the string) live in stable native memory
    // until close().
    this.callbacks = allocStable(32);
    this.debugPath = undefined;
    const v = nativeView(this.callbacks, 32);
    v.setBigUint64(0, dw.symbols.dwfl_build_id_find_elf, true);
    v.setBigUint64(8, dw.symbols.dwfl_standard_find_debuginfo, true);
    v.setBigUint64(16, dw.symbols.dwfl_offline_section_address, true);
    if (debugInfoPath !== undefined) {
      const str = allocCString(debugInfoPath);
      this.debugPath = allocStable(8);
      nativeView(this.debugPath, 8).setBigUint64(0, str, true);
      v.setBigUint64(24, this.debugPath, true);
    }
    const dwfl = dw.dwfl_begin(this.callbacks);
    if (!dwfl) throw dwflError('dwfl_begin');
    this.dwfl = dwfl;
  }

  /**
   * Reports an ELF object mapped with vaddr 0 at `bias`. Reporting the same path at the same
   * bias again returns the existing module (libdwfl would reject the overlap).
   */
  report(path: string, bias: number): Module {
    this.checkOpen();
    const known = this.modules.find((m) => m.path === path && m.bias === bias);
    if (known) return known;
    const dw = libdw();
    // begin_add keeps the modules already reported; a plain report_begin would drop them.
    dw.dwfl_report_begin_add(this.dwfl);
    const handle = dw.dwfl_report_elf(this.dwfl, path, path, -1, bias, false);
    const err = handle ? undefined : dwflError(`cannot report ${path} at 0x${bias.toString(16)}`);
    if (dw.dwfl_report_end(this.dwfl, null, null) !== 0 && !err) throw dwflError('dwfl_report_end');
    if (!handle) throw err as Error;
    const range = moduleRange(handle);
    const clash = this.modules.find((m) => m.start < range.end && range.start < m.end);
    if (clash) {
      // libdwfl accepts overlapping modules, but address lookups would then be ambiguous. A
      // guest mapping over an object must unmap it first (removeModule), so refuse and undo.
      this.rereport(this.modules);
      throw new Error(`cannot report ${path} at 0x${bias.toString(16)}: it overlaps ${clash.path} ` +
        `[0x${clash.start.toString(16)}, 0x${clash.end.toString(16)})`);
    }
    const mod: Module = { path, bias, start: range.start, end: range.end, handle };
    this.insert(mod);
    return mod;
  }

  /**
   * Forgets every module that overlaps [start, end) (a munmap), or, with `end` omitted, the
   * module whose bias or start is `start`. Returns the removed modules.
   */
  remove(start: number, end?: number): Module[] {
    this.checkOpen();
    const gone = this.modules.filter((m) =>
      end === undefined ? m.bias === start || m.start === start : m.start < end && start < m.end);
    if (gone.length === 0) return gone;
    this.rereport(this.modules.filter((m) => !gone.includes(m)));
    return gone;
  }

  /** Makes `survivors` the only modules of the session. */
  private rereport(survivors: Module[]): void {
    const dw = libdw();
    // A plain report_begin marks every module unreported; re-reporting the survivors with the
    // same name and range makes libdwfl keep their Dwfl_Module (and its caches); report_end then
    // deletes the rest. dwfl_report_elf would fail here (it compares a new fd).
    dw.dwfl_report_begin(this.dwfl);
    for (const m of survivors) {
      const h = dw.dwfl_report_module(this.dwfl, m.path, m.start, m.end);
      if (h) m.handle = h;
    }
    if (dw.dwfl_report_end(this.dwfl, null, null) !== 0) throw dwflError('dwfl_report_end after removal');
    this.modules = survivors;
  }

  /** The module whose [start, end) contains `addr`. */
  find(addr: number): Module | undefined {
    const ms = this.modules;
    let lo = 0;
    let hi = ms.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = ms[mid];
      if (addr < m.start) hi = mid - 1;
      else if (addr >= m.end) lo = mid + 1;
      else return m;
    }
    return undefined;
  }

  /** All modules, sorted by start address. */
  all(): readonly Module[] {
    return this.modules;
  }

  /** The separate debug file libdwfl found for `mod`, if any (forces the search). */
  debugFile(mod: Module): string | undefined {
    const dw = libdw();
    const bias = new BigUint64Array(1);
    dw.dwfl_module_getdwarf(mod.handle, bias); // triggers find_debuginfo; NULL just means none
    const out = new BigUint64Array(1);
    dw.dwfl_module_info(mod.handle, null, null, null, null, null, null, out);
    return out[0] === 0n ? undefined : readCString(out[0]);
  }

  /** Ends the libdwfl session; the object must not be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    libdw().dwfl_end(this.dwfl);
    freeStable(this.callbacks);
    if (this.debugPath !== undefined) {
      freeStable(nativeView(this.debugPath, 8).getBigUint64(0, true));
      freeStable(this.debugPath);
    }
    this.modules = [];
  }

  private insert(mod: Module): void {
    const i = this.modules.findIndex((m) => m.start > mod.start);
    if (i < 0) this.modules.push(mod);
    else this.modules.splice(i, 0, mod);
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('DebugInfo used after close()');
  }
}

function moduleRange(handle: bigint): { start: number; end: number } {
  const start = new BigUint64Array(1);
  const end = new BigUint64Array(1);
  if (libdw().dwfl_module_info(handle, null, start, end, null, null, null, null) === null) {
    throw dwflError('dwfl_module_info');
  }
  return { start: Number(start[0]), end: Number(end[0]) };
}
