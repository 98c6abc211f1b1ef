/** The parts of @alexaltea/capstone-js (Capstone 5 compiled to WebAssembly) the adapter uses. */
declare module '@alexaltea/capstone-js' {
  export interface Instruction {
    address: bigint | number;
    size: number;
    mnemonic: string;
    op_str: string;
    bytes: number[];
  }
  export interface Decoder {
    disasm(code: ArrayLike<number>, address: number | bigint, count?: number): Instruction[];
    close(): void;
  }
  export interface CapstoneModule {
    Capstone: new (arch: number, mode: number) => Decoder;
    ARCH_X86: number;
    MODE_64: number;
  }
  /** Instantiates the WebAssembly module. */
  const MCapstone: () => Promise<CapstoneModule>;
  export default MCapstone;
}
