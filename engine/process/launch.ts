/** Starts a program in a new GuestProcess: finds it, loads it and its interpreter, and builds the initial stack, as execve does. */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { X86 } from '../cpu/x86-const';
import { CPUID1_EDX } from '../cpu/cpuid';
import { BadProgramError, ElfImage, readElf } from '../elf/elf-file';
import { loadImage, LoadedImage, PIE_BASE } from '../elf/loader';
import { AT, buildInitialStack } from '../elf/initial-stack';
import { PAGE } from '../memory/guest-memory';
import { GuestProcess, ProcessOptions } from './guest-process';
import type { DeviceRegistry } from '../kernel/fd-table';

export const STACK_TOP = 0x7ffffffff000;
export const STACK_SIZE = 8 << 20;

/** What was loaded, for debug info and reports. */
export interface Launched {
  proc: GuestProcess;
  main: LoadedImage;
  interp?: LoadedImage;
}

/** Resolves a command name the way execvp does (PATH search when it has no slash). */
export function resolveProgram(prog: string): string {
  if (prog.includes('/')) return prog;
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', prog);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // keep looking
    }
  }
  throw new BadProgramError(`${prog}: command not found`);
}

/** A "#!interpreter [arg]" line turns into the interpreter's command line, as the kernel's binfmt_script does. */
function scriptCommand(file: string, args: string[]): [string, string[]] | undefined {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    head = Buffer.alloc(256);
    const n = fs.readSync(fd, head, 0, 256, 0);
    fs.closeSync(fd);
    head = head.subarray(0, n);
  } catch {
    return undefined;
  }
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const line = head.toString('latin1').slice(2).split('\n')[0].trim();
  const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
  if (!m) throw new BadProgramError(`${file}: bad interpreter line`);
  return [m[1], [m[1], ...(m[2] ? [m[2]] : []), file, ...args]];
}

/** Makes the engine devices (Xen) one new process sees. */
export type DeviceFactory = (proc: GuestProcess) => DeviceRegistry;

/** How to start a process: the process options, and the engine devices it sees. */
export interface LaunchOptions extends ProcessOptions {
  devices?: DeviceFactory;
}

/** Creates the process for `prog args` with the environment env. */
export function launch(prog: string, args: string[], env: Record<string, string | undefined>, opts: LaunchOptions): Launched {
  let file = resolveProgram(prog);
  let argv = [prog, ...args];
  const script = scriptCommand(file, args);
  if (script) {
    file = script[0];
    argv = script[1];
  }
  const image = readElf(file);
  const proc = new GuestProcess(opts);
  // Before the first instruction: ld.so and the program may probe the devices at any time.
  if (opts.devices) proc.devices = opts.devices(proc);
  const main = loadImage(proc.mem, image, image.type === 2 ? 0 : PIE_BASE);
  let interp: LoadedImage | undefined;
  if (image.interp) {
    let ii: ElfImage;
    try {
      ii = readElf(image.interp);
    } catch (e) {
      throw new BadProgramError(`${file}: its interpreter ${(e as Error).message}`);
    }
    interp = loadImage(proc.mem, ii, 'anywhere');
  }
  proc.brkStart = proc.brkCur = main.end;
  proc.exePath = fs.realpathSync(file);
  proc.argv = argv;
  // Stack: 8 MiB reserved up front; untouched pages cost nothing on the host.
  const stackLow = STACK_TOP - STACK_SIZE;
  proc.mem.map(stackLow, STACK_SIZE, 3, '[stack]');
  proc.current.stackLow = stackLow;
  proc.current.stackHigh = STACK_TOP;
  const auxv: Array<[number, number]> = [
    [AT.PHDR, main.phdr], [AT.PHENT, image.phentsize], [AT.PHNUM, image.phnum], [AT.PAGESZ, PAGE],
    [AT.BASE, interp ? interp.bias : 0], [AT.FLAGS, 0], [AT.ENTRY, main.entry],
    [AT.UID, process.getuid?.() ?? 0], [AT.EUID, process.geteuid?.() ?? 0], [AT.GID, process.getgid?.() ?? 0],
    [AT.EGID, process.getegid?.() ?? 0], [AT.SECURE, 0], [AT.HWCAP, CPUID1_EDX], [AT.HWCAP2, 0],
    [AT.CLKTCK, 100], [AT.MINSIGSTKSZ, 2048],
  ];
  const envp = Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  const { sp } = buildInitialStack(proc.mem, STACK_TOP, argv, envp, auxv, file, randomBytes(16));
  proc.auxv = auxv;
  proc.uc.reg_write(X86.RSP, sp);
  proc.uc.reg_write(X86.RIP, interp ? interp.entry : main.entry);
  proc.uc.reg_write(X86.RDX, 0);
  return { proc, main, interp };
}
