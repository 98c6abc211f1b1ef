/** Type declarations for the parts of elfy (which ships none) that the loader uses. */
declare module 'elfy' {
  interface ElfyProgramHeader {
    type: string; offset: number; vaddr: number; paddr: number; filesz: number; memsz: number; align: number;
    flags: { r?: boolean; w?: boolean; x?: boolean };
  }
  interface ElfySection { name: string; type: string; addr: number; off: number; size: number; data: Buffer }
  interface ElfyFile {
    class: number; machine: string; type: string; entry: number; phoff: number;
    body: { programs: ElfyProgramHeader[]; sections: ElfySection[] };
  }
  function parse(buf: Buffer): ElfyFile;
  const elfy: { parse: typeof parse };
  export default elfy;
}
