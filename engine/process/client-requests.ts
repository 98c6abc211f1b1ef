/**
 * Valgrind client requests (valgrind.h's magic sequence on amd64): four no-op rotations of rdi
 * then `xchg rbx,rbx`. Natively the sequence does nothing; here the `xchg` is replaced by a trap
 * (`syscall; nop`) when its code is mapped. rax points to {request, arg1..arg5}, rdx holds the
 * default result and receives the answer. The core answers its own requests and hands the rest
 * (memcheck's 'M','C' requests, heap-like blocks, mempools) to the tool.
 */
import * as fs from 'fs';
import { X86 } from '../cpu/x86-const';
import { PAGE, Region } from '../memory/guest-memory';
import type { GuestProcess } from './guest-process';
import { formatVaList } from './guest-printf';

const PREAMBLE = Buffer.from([0x48, 0xc1, 0xc7, 0x03, 0x48, 0xc1, 0xc7, 0x0d, 0x48, 0xc1, 0xc7, 0x3d, 0x48, 0xc1, 0xc7, 0x33, 0x48, 0x87, 0xdb]);
const TRAP = new Uint8Array([0x0f, 0x05, 0x90]);

export const CR = {
  RUNNING_ON_VALGRIND: 0x1001,
  DISCARD_TRANSLATIONS: 0x1002,
  COUNT_ERRORS: 0x1201,
  GDB_MONITOR_COMMAND: 0x1202,
  PRINTF: 0x1401,
  PRINTF_BACKTRACE: 0x1402,
  PRINTF_VALIST_BY_REF: 0x1403,
  PRINTF_BACKTRACE_VALIST_BY_REF: 0x1404,
  STACK_REGISTER: 0x1501,
  STACK_DEREGISTER: 0x1502,
  STACK_CHANGE: 0x1503,
} as const;

/** A tool's share of client requests: returns the result, or undefined for "not mine" (the default stays). */
export type ToolRequestHandler = (code: number, args: bigint[]) => bigint | undefined;

export class ClientRequests {
  private tool: ToolRequestHandler | undefined;
  private readonly seen = new Set<number>();
  private nextStackId = 1;
  /** Called for PRINTF output ("**PID** text") and backtraces; set by the CLI. */
  print: (text: string, withBacktrace: boolean) => void = () => undefined;
  /** Error count for COUNT_ERRORS; set by the tool. */
  countErrors: () => number = () => 0;

  constructor(private readonly proc: GuestProcess) {
    proc.mem.listen({
      mapped: (r) => this.scan(r),
      protected: (start, end, perms) => {
        if (perms & 4) for (const r of proc.mem.list()) if (r.start < end && r.end > start) this.scan(r);
      },
    });
  }

  /** Lets a tool answer the requests the core does not. */
  setTool(handler: ToolRequestHandler): void {
    this.tool = handler;
  }

  private scan(r: Region): void {
    if (!(r.perms & 4)) return;
    const bytes = r.chunk.bytes.subarray(r.chunkOffset, r.chunkOffset + backedLength(r));
    const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = hay.indexOf(PREAMBLE); i >= 0; i = hay.indexOf(PREAMBLE, i + 1)) {
      const at = r.start + i + 16;
      if (this.seen.has(at)) continue;
      this.seen.add(at);
      this.proc.plantTrap(at, TRAP, () => this.handle());
    }
  }

  private handle(): void {
    const { uc, mem } = this.proc;
    const argp = uc.reg_read_num(X86.RAX);
    let args: bigint[];
    try {
      args = [0, 1, 2, 3, 4, 5].map((i) => mem.readU64(argp + 8 * i));
    } catch {
      return; // a bad argument block: leave the default result, as a native run would
    }
    const code = Number(args[0]);
    const r = this.core(code, args) ?? this.tool?.(code, args);
    if (r !== undefined) uc.reg_write(X86.RDX, r);
  }

  private core(code: number, args: bigint[]): bigint | undefined {
    const mem = this.proc.mem;
    switch (code) {
      case CR.RUNNING_ON_VALGRIND:
        return 1n;
      case CR.DISCARD_TRANSLATIONS:
        this.proc.whenStopped(() => this.proc.uc.ctl_remove_cache(Number(args[1]), Number(args[1] + args[2])));
        return 0n;
      case CR.COUNT_ERRORS:
        return BigInt(this.countErrors());
      case CR.PRINTF:
      case CR.PRINTF_BACKTRACE:
      case CR.PRINTF_VALIST_BY_REF:
      case CR.PRINTF_BACKTRACE_VALIST_BY_REF: {
        const text = formatVaList(mem, Number(args[1]), Number(args[2]));
        this.print(text, code === CR.PRINTF_BACKTRACE || code === CR.PRINTF_BACKTRACE_VALIST_BY_REF);
        return BigInt(Buffer.byteLength(text));
      }
      case CR.STACK_REGISTER:
        return BigInt(this.nextStackId++);
      case CR.STACK_DEREGISTER:
      case CR.STACK_CHANGE:
        return 0n;
      default:
        return undefined;
    }
  }
}

/**
 * Bytes at the start of region r that can be read: a file mapping ends with the file's last page
 * (touching a page wholly past the end raises SIGBUS, which would kill the host). A file that
 * can no longer be found (deleted since) is not read at all.
 */
function backedLength(r: Region): number {
  const len = r.end - r.start;
  if (!r.name.startsWith('/')) return len;
  try {
    const size = fs.statSync(r.name).size;
    return Math.max(0, Math.min(len, Math.ceil((size - r.fileOffset) / PAGE) * PAGE));
  } catch {
    return 0;
  }
}
