/**
 * koffi declarations for the parts of elfutils libdw/libdwfl (Debian libdw1 0.188) that unigrind
 * uses, plus libc `free` for the arrays libdw mallocs.
 *
 * Every libdw pointer (Dwfl*, Dwfl_Module*, Dwarf_Die*, Dwarf_CFI*, …) is an opaque `void *`,
 * which koffi 3 hands to JS as a BigInt. Out-parameters are passed as typed arrays
 * (BigUint64Array for 64-bit words and pointers, Int32Array for int, Uint8Array for bool), which
 * koffi pins for the duration of the call. Names and layouts follow libdw.h / libdwfl.h of 0.188;
 * there are no headers on the machine, so the struct sizes are written here
 * (/work/shared/reference/libdw.md lists the measured ones).
 */
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';

/** sizeof(Dwarf_Die), sizeof(Dwarf_Attribute), sizeof(Dwarf_Op), sizeof(GElf_Sym) on x86-64. */
export const SIZEOF_DIE = 32;
export const SIZEOF_ATTRIBUTE = 24;
export const SIZEOF_OP = 32;
export const SIZEOF_SYM = 24;

/** DWARF constants used by this folder. */
export const DW_TAG_subprogram = 0x2e;
export const DW_TAG_inlined_subroutine = 0x1d;
export const DW_AT_call_column = 0x57;
export const DW_AT_call_file = 0x58;
export const DW_AT_call_line = 0x59;

/** ELF symbol types and special section indices (elf.h). */
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;

type Ptr = bigint;
/** Any pointer argument: a BigInt address, null, or a typed array / Buffer koffi passes by address. */
type PtrArg = bigint | null | ArrayBufferView;

/** The bound libdw, libc and libstdc++ functions, with TypeScript signatures. */
export interface Libdw {
  dwfl_begin(callbacks: Ptr): Ptr | null;
  dwfl_end(dwfl: Ptr): void;
  dwfl_errmsg(err: number): string | null;
  dwarf_errmsg(err: number): string | null;
  dwfl_report_begin(dwfl: Ptr): void;
  dwfl_report_begin_add(dwfl: Ptr): void;
  dwfl_report_elf(dwfl: Ptr, name: string, fileName: string, fd: number, base: number | bigint, addPVaddr: boolean): Ptr | null;
  dwfl_report_module(dwfl: Ptr, name: string, start: number | bigint, end: number | bigint): Ptr | null;
  dwfl_report_end(dwfl: Ptr, removed: PtrArg, arg: PtrArg): number;
  dwfl_addrmodule(dwfl: Ptr, addr: number | bigint): Ptr | null;
  dwfl_module_info(mod: Ptr, userdata: PtrArg, start: PtrArg, end: PtrArg, dwbias: PtrArg, symbias: PtrArg,
    mainfile: PtrArg, debugfile: PtrArg): string | null;
  dwfl_module_getdwarf(mod: Ptr, bias: PtrArg): Ptr | null;
  dwfl_module_getsymtab(mod: Ptr): number;
  dwfl_module_getsym_info(mod: Ptr, ndx: number, sym: PtrArg, addr: PtrArg, shndx: PtrArg, elfp: PtrArg, bias: PtrArg): string | null;
  dwfl_module_getsrc(mod: Ptr, addr: number | bigint): Ptr | null;
  dwfl_lineinfo(line: Ptr, addr: PtrArg, linep: PtrArg, colp: PtrArg, mtime: PtrArg, length: PtrArg): string | null;
  dwfl_dwarf_line(line: Ptr, bias: PtrArg): Ptr | null;
  dwarf_linebeginstatement(line: Ptr, flag: PtrArg): number;
  dwfl_module_getsrc_file(mod: Ptr, fname: string, lineno: number, column: number, srcsp: PtrArg, nsrcs: PtrArg): number;
  dwfl_module_addrdie(mod: Ptr, addr: number | bigint, bias: PtrArg): Ptr | null;
  dwarf_getscopes(cudie: Ptr, pc: number | bigint, scopes: PtrArg): number;
  dwarf_getscopes_die(die: Ptr, scopes: PtrArg): number;
  dwarf_tag(die: Ptr): number;
  dwarf_diename(die: Ptr): string | null;
  dwarf_attr_integrate(die: Ptr, name: number, result: PtrArg): Ptr | null;
  dwarf_formudata(attr: Ptr, value: PtrArg): number;
  dwarf_getsrcfiles(cudie: Ptr, files: PtrArg, nfiles: PtrArg): number;
  dwarf_filesrc(files: Ptr, idx: number, mtime: PtrArg, length: PtrArg): string | null;
  dwarf_lowpc(die: Ptr, addr: PtrArg): number;
  dwarf_entry_breakpoints(die: Ptr, bkpts: PtrArg): number;
  dwfl_module_eh_cfi(mod: Ptr, bias: PtrArg): Ptr | null;
  dwfl_module_dwarf_cfi(mod: Ptr, bias: PtrArg): Ptr | null;
  dwarf_cfi_addrframe(cfi: Ptr, addr: number | bigint, frame: PtrArg): number;
  dwarf_frame_info(frame: Ptr, start: PtrArg, end: PtrArg, signalp: PtrArg): number;
  dwarf_frame_cfa(frame: Ptr, ops: PtrArg, nops: PtrArg): number;
  dwarf_frame_register(frame: Ptr, regno: number, opsMem: PtrArg, ops: PtrArg, nops: PtrArg): number;
  /** libc free(), for the arrays and frames libdw mallocs. */
  free(p: Ptr): void;
  /** Addresses of libdwfl's standard callbacks, to be stored in a Dwfl_Callbacks. */
  readonly symbols: {
    dwfl_build_id_find_elf: Ptr;
    dwfl_standard_find_debuginfo: Ptr;
    dwfl_offline_section_address: Ptr;
  };
}

let bound: Libdw | undefined;
let loadError: Error | undefined;

/** Paths tried in order; the versioned soname is what Debian's libdw1 installs. */
const LIBDW_NAMES = ['libdw.so.1', '/usr/lib/x86_64-linux-gnu/libdw.so.1'];

function loadFirst(names: string[]): LibraryHandle {
  let last: unknown;
  for (const n of names) {
    try {
      return koffi.load(n);
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`cannot load ${names[0]}: ${last instanceof Error ? last.message : String(last)}`);
}

/**
 * The bound libdw functions, loaded on first use so that importing this folder never fails on a
 * machine without libdw (the error then comes from the first DebugInfo call, with the reason).
 */
export function libdw(): Libdw {
  if (bound) return bound;
  if (loadError) throw loadError;
  try {
    bound = bind();
    return bound;
  } catch (e) {
    loadError = new Error(`elfutils libdw is not usable (install Debian package libdw1): ${e instanceof Error ? e.message : String(e)}`);
    throw loadError;
  }
}

function bind(): Libdw {
  const dw = loadFirst(LIBDW_NAMES);
  const libc = loadFirst(['libc.so.6']);
  const f = (decl: string) => dw.func(decl);
  const sym = (name: string): Ptr => {
    const p: unknown = dw.symbol(name);
    if (typeof p !== 'bigint' || p === 0n) throw new Error(`libdw does not export ${name}`);
    return p;
  };
  return {
    dwfl_begin: f('void *dwfl_begin(void *callbacks)'),
    dwfl_end: f('void dwfl_end(void *dwfl)'),
    dwfl_errmsg: f('const char *dwfl_errmsg(int err)'),
    dwarf_errmsg: f('const char *dwarf_errmsg(int err)'),
    dwfl_report_begin: f('void dwfl_report_begin(void *dwfl)'),
    dwfl_report_begin_add: f('void dwfl_report_begin_add(void *dwfl)'),
    // dlsym gives the default version dwfl_report_elf@@ELFUTILS_0.156, the 6-argument one.
    dwfl_report_elf: f('void *dwfl_report_elf(void *dwfl, const char *name, const char *file_name, int fd, uint64_t base, bool add_p_vaddr)'),
    dwfl_report_module: f('void *dwfl_report_module(void *dwfl, const char *name, uint64_t start, uint64_t end)'),
    dwfl_report_end: f('int dwfl_report_end(void *dwfl, void *removed, void *arg)'),
    dwfl_addrmodule: f('void *dwfl_addrmodule(void *dwfl, uint64_t addr)'),
    dwfl_module_info: f('const char *dwfl_module_info(void *mod, void *userdata, void *start, void *end, void *dwbias, void *symbias, void *mainfile, void *debugfile)'),
    dwfl_module_getdwarf: f('void *dwfl_module_getdwarf(void *mod, void *bias)'),
    dwfl_module_getsymtab: f('int dwfl_module_getsymtab(void *mod)'),
    dwfl_module_getsym_info: f('const char *dwfl_module_getsym_info(void *mod, int ndx, void *sym, void *addr, void *shndxp, void *elfp, void *bias)'),
    dwfl_module_getsrc: f('void *dwfl_module_getsrc(void *mod, uint64_t addr)'),
    dwfl_lineinfo: f('const char *dwfl_lineinfo(void *line, void *addr, void *linep, void *colp, void *mtime, void *length)'),
    dwfl_dwarf_line: f('void *dwfl_dwarf_line(void *line, void *bias)'),
    dwarf_linebeginstatement: f('int dwarf_linebeginstatement(void *line, void *flagp)'),
    dwfl_module_getsrc_file: f('int dwfl_module_getsrc_file(void *mod, const char *fname, int lineno, int column, void *srcsp, void *nsrcs)'),
    dwfl_module_addrdie: f('void *dwfl_module_addrdie(void *mod, uint64_t addr, void *bias)'),
    dwarf_getscopes: f('int dwarf_getscopes(void *cudie, uint64_t pc, void *scopes)'),
    dwarf_getscopes_die: f('int dwarf_getscopes_die(void *die, void *scopes)'),
    dwarf_tag: f('int dwarf_tag(void *die)'),
    dwarf_diename: f('const char *dwarf_diename(void *die)'),
    dwarf_attr_integrate: f('void *dwarf_attr_integrate(void *die, unsigned int name, void *result)'),
    dwarf_formudata: f('int dwarf_formudata(void *attr, void *value)'),
    dwarf_getsrcfiles: f('int dwarf_getsrcfiles(void *cudie, void *files, void *nfiles)'),
    dwarf_filesrc: f('const char *dwarf_filesrc(void *files, size_t idx, void *mtime, void *length)'),
    dwarf_lowpc: f('int dwarf_lowpc(void *die, void *addr)'),
    dwarf_entry_breakpoints: f('int dwarf_entry_breakpoints(void *die, void *bkpts)'),
    dwfl_module_eh_cfi: f('void *dwfl_module_eh_cfi(void *mod, void *bias)'),
    dwfl_module_dwarf_cfi: f('void *dwfl_module_dwarf_cfi(void *mod, void *bias)'),
    dwarf_cfi_addrframe: f('int dwarf_cfi_addrframe(void *cfi, uint64_t address, void *frame)'),
    dwarf_frame_info: f('int dwarf_frame_info(void *frame, void *start, void *end, void *signalp)'),
    dwarf_frame_cfa: f('int dwarf_frame_cfa(void *frame, void *ops, void *nops)'),
    dwarf_frame_register: f('int dwarf_frame_register(void *frame, int regno, void *ops_mem, void *ops, void *nops)'),
    free: libc.func('void free(void *p)'),
    symbols: {
      dwfl_build_id_find_elf: sym('dwfl_build_id_find_elf'),
      dwfl_standard_find_debuginfo: sym('dwfl_standard_find_debuginfo'),
      dwfl_offline_section_address: sym('dwfl_offline_section_address'),
    },
  };
}

/** The message of libdwfl's last error (dwfl_errmsg(-1) reads the thread's current error). */
export function dwflError(what: string): Error {
  const msg = libdw().dwfl_errmsg(-1) ?? 'unknown error';
  return new Error(`libdwfl: ${what}: ${msg}`);
}

/** The message of libdw's last error. */
export function dwarfError(what: string): Error {
  const msg = libdw().dwarf_errmsg(-1) ?? 'unknown error';
  return new Error(`libdw: ${what}: ${msg}`);
}

/** Reads the `index`-th pointer of a native `void *[]` array. */
export function readPointer(array: Ptr, index: number): Ptr {
  return BigInt(koffi.decode(array, index * 8, 'uint64_t') as number | bigint);
}

/** A native byte view of `len` bytes at `p` (valid as long as the native memory is). */
export function nativeView(p: Ptr, len: number): DataView {
  return new DataView(koffi.view(p, len));
}

/** Allocates never-freed native memory for structures libdw keeps a pointer to. */
export function allocStable(bytes: number): Ptr {
  const p: unknown = koffi.alloc('uint8_t', bytes);
  if (typeof p !== 'bigint') throw new Error('koffi.alloc did not return a pointer');
  new Uint8Array(koffi.view(p, bytes)).fill(0);
  return p;
}

/** Releases memory obtained from allocStable. */
export function freeStable(p: Ptr): void {
  koffi.free(p);
}

/** Writes a NUL-terminated copy of `s` into new stable native memory. */
export function allocCString(s: string): Ptr {
  const bytes = Buffer.from(s + '\0', 'utf8');
  const p = allocStable(bytes.length);
  new Uint8Array(koffi.view(p, bytes.length)).set(bytes);
  return p;
}

/** Decodes the NUL-terminated string at `p` (koffi reads up to the terminator). */
export function readCString(p: Ptr): string {
  return koffi.decode(p, 'char', -1) as string;
}
