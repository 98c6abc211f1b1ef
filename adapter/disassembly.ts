/**
 * x86-64 disassembly of guest memory with Capstone, for DAP's `disassemble`: a window of
 * instructions around an address, with the symbol and source line of each. x86 cannot be decoded
 * backwards, so instructions before the address are decoded forward from a synchronisation point
 * (the start of the function, when there is a symbol) up to it.
 */
import MCapstone from '@alexaltea/capstone-js';
import type { CapstoneModule, Decoder } from '@alexaltea/capstone-js';
import type { DebugInfo } from '../engine/debuginfo/debuginfo';
import type { GuestMemory } from '../engine/memory/guest-memory';

/** One disassembled instruction (or an unreadable/undecodable byte). */
export interface RuntimeInstruction {
  address: number;
  /** Hex bytes, space-separated. */
  bytes: string;
  text: string;
  /** "fn" or "fn+off". */
  symbol?: string;
  file?: string;
  line?: number;
  invalid?: boolean;
}

const MAX_INSN = 15;

let loading: Promise<CapstoneModule> | undefined;

/** Capstone's WebAssembly module, instantiated once. */
function capstone(): Promise<CapstoneModule> {
  return (loading ??= MCapstone());
}

export class Disassembler {
  private decoder: Decoder | undefined;

  constructor(private readonly mem: GuestMemory, private readonly debug: () => DebugInfo) {}

  /** Loads Capstone (call once before disassembling). */
  async init(): Promise<void> {
    const cs = await capstone();
    this.decoder = new cs.Capstone(cs.ARCH_X86, cs.MODE_64);
  }

  /** `count` instructions starting `offset` instructions away from addr (offset may be negative). */
  window(addr: number, offset: number, count: number): RuntimeInstruction[] {
    const out: RuntimeInstruction[] = [];
    if (offset < 0) {
      const before = this.before(addr, -offset);
      out.push(...before.slice(0, count));
    }
    let skip = Math.max(0, offset);
    let at = addr;
    while (out.length < count) {
      const insn = this.decodeAt(at);
      at += Math.max(1, insn.bytes.split(' ').length);
      if (skip > 0) { skip--; continue; }
      out.push(insn);
    }
    return out;
  }

  /** The n instructions that end right before addr (padded with invalid entries at the front). */
  private before(addr: number, n: number): RuntimeInstruction[] {
    const sym = this.debug().symbolAt(addr - 1);
    let start = addr - n * 8;
    if (sym && sym.start >= addr - n * MAX_INSN && sym.start < addr) start = sym.start;
    const list: RuntimeInstruction[] = [];
    let at = Math.max(0, start);
    while (at < addr) {
      const insn = this.decodeAt(at, addr - at);
      list.push(insn);
      at += Math.max(1, insn.bytes.split(' ').length);
    }
    const tail = list.slice(-n);
    let first = tail.length ? tail[0].address : addr;
    while (tail.length < n) {
      first -= 1;
      tail.unshift({ address: first, bytes: '', text: '??', invalid: true });
    }
    return tail;
  }

  /** The instruction at addr, not longer than limit bytes (so that a later sync point is kept). */
  private decodeAt(addr: number, limit = MAX_INSN): RuntimeInstruction {
    const bytes = this.readable(addr, Math.min(MAX_INSN, limit));
    const base = this.annotate(addr);
    if (bytes.length === 0) return { ...base, bytes: '', text: '<unreadable>', invalid: true };
    const [insn] = this.decoder?.disasm(Array.from(bytes), addr, 1) ?? [];
    if (!insn) return { ...base, bytes: hexBytes(bytes.subarray(0, 1)), text: '(bad)', invalid: true };
    return { ...base, bytes: hexBytes(Uint8Array.from(insn.bytes)), text: `${insn.mnemonic} ${insn.op_str}`.trim() };
  }

  private readable(addr: number, len: number): Uint8Array {
    const r = this.mem.find(addr);
    if (!r || (r.perms & 1) === 0) return new Uint8Array(0);
    return this.mem.view(addr, Math.min(len, r.end - addr)) ?? new Uint8Array(0);
  }

  private annotate(addr: number): RuntimeInstruction {
    const out: RuntimeInstruction = { address: addr, bytes: '', text: '' };
    const info = this.debug();
    const sym = info.symbolAt(addr);
    if (sym) out.symbol = addr === sym.start ? sym.name : `${sym.name}+${addr - sym.start}`;
    const f = info.symbolize(addr)[0];
    if (f?.file !== undefined && f.line !== undefined) {
      out.file = f.dir !== undefined && !f.file.startsWith('/') ? `${f.dir}/${f.file}` : f.file;
      out.line = f.line;
    }
    return out;
  }

  close(): void {
    this.decoder?.close();
    this.decoder = undefined;
  }
}

function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}
