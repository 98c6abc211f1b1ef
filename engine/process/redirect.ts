/**
 * Function redirection (Valgrind's "redir"): when the guest calls a named function in any loaded
 * object, the engine runs a JS replacement instead and returns to the caller.
 *
 * - A plain function symbol (malloc in libc, strlen in ld.so, everything in a static program)
 *   gets `syscall; ret` over its first three bytes.
 * - An IFUNC symbol (glibc's memcpy, strlen, … choose an implementation at relocation time)
 *   gets the same over its resolver, which then answers with the address of a stub of ours: so
 *   every caller bound through the IFUNC, libc's own internal calls included, reaches the
 *   replacement, and memcpy and memmove stay distinct although glibc implements both with one
 *   body.
 *
 * The syscall hook recognises a planted address (GuestProcess.plantTrap), runs the JS, puts its
 * result in rax, and the guest's own `ret` returns. Writing RIP from a Unicorn code hook instead
 * stops and restarts emulation (measured ~60 µs a call); this costs a few µs and stays in the
 * CPU loop. The mechanism is core; which functions, and what they do, is the tool's business.
 */
import { X86 } from '../cpu/x86-const';
import type { DebugInfo } from '../debuginfo/debuginfo';
import { toNum } from '../jit/bigint-bits';
import type { GuestProcess } from './guest-process';

const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const ARG_REGS = [X86.RDI, X86.RSI, X86.RDX, X86.RCX, X86.R8, X86.R9];
/** syscall; ret */
const STUB = new Uint8Array([0x0f, 0x05, 0xc3]);

/** Reads a register of the calling thread by Unicorn register id. */
export type RegisterReader = (ucReg: number) => bigint;

/** What a replacement sees of the call it replaces. */
export class RedirectCall {
  /**
   * @param reg reads the caller's registers: Unicorn's by default; the translator passes its own
   *   state, so that a call costs no copy of the state to Unicorn.
   */
  constructor(readonly proc: GuestProcess, readonly name: string, readonly entry: number,
    readonly reg: RegisterReader = (r) => proc.uc.reg_read(r)) {}

  /** Integer argument i (0 = rdi … 5 = r9), 64 bits. */
  arg(i: number): bigint {
    return this.reg(ARG_REGS[i]);
  }

  /** Integer argument i as a Number (pointers and sizes below 2^53). */
  num(i: number): number {
    return toNum(this.reg(ARG_REGS[i]));
  }
}

/** A replacement: its name (as reports show the top frame), the symbols it replaces, and its body (returning rax). */
export interface Replacement {
  name: string;
  symbols: readonly string[];
  /** Also replaces the dynamic loader's own copy (ld-linux-*.so.*); otherwise the loader's runs as it is. */
  inLoader?: boolean;
  run(call: RedirectCall): number | bigint;
}

export class Redirector {
  private readonly bySymbol = new Map<string, Replacement>();
  private readonly entries = new Map<number, Replacement>();
  private readonly stubs = new Map<Replacement, number>();
  /** Redirections made, for -v and tests: [symbol, module, address]. */
  readonly made: Array<[string, string, number]> = [];

  constructor(private readonly proc: GuestProcess, replacements: readonly Replacement[]) {
    for (const r of replacements) for (const s of r.symbols) this.bySymbol.set(s, r);
    proc.debug.onModule((path, _bias, info) => this.scan(path, info));
  }

  /** The replacement entered at address a (a patched entry or one of our stubs), if any. */
  at(a: number): Replacement | undefined {
    return this.entries.get(a);
  }

  private scan(path: string, info: DebugInfo): void {
    const loader = /(^|\/)ld-linux[^/]*\.so[^/]*$/.test(path);
    for (const s of info.moduleSymbols(path)) {
      const r = this.bySymbol.get(s.name);
      if (!r || s.address === 0 || this.entries.has(s.address) || (loader && !r.inLoader)) continue;
      if (s.type === STT_FUNC && s.size >= STUB.length) {
        this.enter(s.address, r);
      } else if (s.type === STT_GNU_IFUNC) {
        const stub = this.stubFor(r);
        this.proc.plantTrap(s.address, STUB, () => this.proc.uc.reg_write(X86.RAX, stub));
      } else {
        continue;
      }
      this.made.push([s.name, path, s.address]);
    }
  }

  // Runs r whenever execution reaches addr.
  private enter(addr: number, r: Replacement): void {
    this.entries.set(addr, r);
    this.plant(addr, r, false);
  }

  // The trap at addr that runs r: from Unicorn's registers, or (the translator's fast path) from any.
  private plant(addr: number, r: Replacement, fresh: boolean): void {
    const run = (reg?: RegisterReader): bigint => BigInt.asUintN(64, BigInt(r.run(new RedirectCall(this.proc, r.name, addr, reg))));
    this.proc.plantTrap(addr, STUB, () => this.proc.uc.reg_write(X86.RAX, run()), fresh, run);
  }

  // An engine-owned entry point for an IFUNC's replacement.
  private stubFor(r: Replacement): number {
    let addr = this.stubs.get(r);
    if (addr === undefined) {
      const a = this.proc.stubAddress();
      this.plant(a, r, true);
      addr = a;
      this.stubs.set(r, a);
      this.entries.set(a, r);
    }
    return addr;
  }
}
