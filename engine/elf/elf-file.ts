/** Reads and validates an ELF file (headers and program headers through elfy), with one-line errors for bad input. */
import * as fs from 'fs';
import { resolve } from 'path';
import elfy from 'elfy';

export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_GNU_STACK = 0x6474e551;

/** A program header, with numeric fields. */
export interface ProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  /** PF_X 1, PF_W 2, PF_R 4. */
  flags: number;
  align: number;
}

/** What the loader needs from an ELF executable or shared object. */
export interface ElfImage {
  /** Absolute path of the file (messages use the name as given). */
  path: string;
  data: Buffer;
  /** ET_EXEC (2) or ET_DYN (3). */
  type: number;
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  programs: ProgramHeader[];
  interp?: string;
}

/** A problem with the program named on the command line: printed as one line, exit status non-zero. */
export class BadProgramError extends Error {}

const ELF_TYPE: Record<string, number> = { exec: 2, dyn: 3 };
const EM_NAMES: Record<number, string> = { 3: 'i386', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 's390', 40: 'ARM', 183: 'AArch64', 243: 'RISC-V' };

/** Reads path and checks that it is a 64-bit little-endian x86-64 executable or shared object. */
export function readElf(path: string): ElfImage {
  let data: Buffer;
  try {
    const st = fs.statSync(path);
    if (st.isDirectory()) throw new BadProgramError(`${path}: is a directory`);
    data = fs.readFileSync(path);
  } catch (e) {
    if (e instanceof BadProgramError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new BadProgramError(`${path}: ${code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : (e as Error).message}`);
  }
  if (data.length < 4 || data.readUInt32BE(0) !== 0x7f454c46) throw new BadProgramError(`${path}: not an ELF file`);
  if (data.length < 64) throw new BadProgramError(`${path}: truncated ELF file (${data.length} bytes, the ELF header alone needs 64)`);
  if (data[4] !== 2) throw new BadProgramError(`${path}: 32-bit ELF; unigrind runs x86-64 (64-bit) programs only`);
  if (data[5] !== 1) throw new BadProgramError(`${path}: big-endian ELF; unigrind runs x86-64 programs only`);
  const machine = data.readUInt16LE(18);
  if (machine !== 62) {
    throw new BadProgramError(`${path}: ELF for ${EM_NAMES[machine] ?? `machine ${machine}`}; unigrind runs x86-64 programs only`);
  }
  const phoff = Number(data.readBigUInt64LE(32));
  const phentsize = data.readUInt16LE(54);
  const phnum = data.readUInt16LE(56);
  if (phoff + phnum * phentsize > data.length) {
    throw new BadProgramError(`${path}: truncated ELF file (program headers end at byte ${phoff + phnum * phentsize}, file has ${data.length})`);
  }
  let parsed: ReturnType<typeof elfy.parse>;
  try {
    parsed = elfy.parse(data);
  } catch (e) {
    throw new BadProgramError(`${path}: malformed ELF file (${(e as Error).message})`);
  }
  const type = ELF_TYPE[parsed.type as string];
  if (type === undefined) throw new BadProgramError(`${path}: ELF type '${parsed.type}' is neither an executable nor a shared object`);
  const programs: ProgramHeader[] = parsed.body.programs.map((p, i) => ({
    // elfy names only the types it knows; read the number itself from the header table.
    type: data.readUInt32LE(phoff + i * phentsize),
    offset: p.offset, vaddr: p.vaddr, filesz: p.filesz, memsz: p.memsz,
    flags: (p.flags.x ? 1 : 0) | (p.flags.w ? 2 : 0) | (p.flags.r ? 4 : 0), align: p.align,
  }));
  for (const p of programs) {
    if (p.type === PT_LOAD && p.offset + p.filesz > data.length) {
      throw new BadProgramError(`${path}: truncated ELF file (a segment ends at byte ${p.offset + p.filesz}, file has ${data.length})`);
    }
  }
  if (!programs.some((p) => p.type === PT_LOAD)) throw new BadProgramError(`${path}: ELF file has no loadable segment`);
  const ip = programs.find((p) => p.type === PT_INTERP);
  const interp = ip ? data.subarray(ip.offset, ip.offset + ip.filesz).toString('latin1').replace(/\0.*$/s, '') : undefined;
  // Absolute, as the kernel names file mappings: region names feed /proc/self/maps and the debug-info tracker, which
  // only follows absolute names (a program started as ./prog would otherwise print "???" frames).
  return { path: resolve(path), data, type, entry: Number(parsed.entry), phoff, phentsize, phnum, programs, interp };
}

