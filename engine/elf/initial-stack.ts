/** Builds the initial process stack the kernel hands to _start: argc, argv, envp, auxv and their strings. */
import { GuestMemory } from '../memory/guest-memory';

export const AT = {
  NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12,
  GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, HWCAP2: 26,
  EXECFN: 31, MINSIGSTKSZ: 51,
} as const;

/** Writes the initial stack below top and returns the initial rsp and the auxv as written. */
export function buildInitialStack(mem: GuestMemory, top: number, argv: string[], envp: string[],
  auxv: Array<[number, number]>, execfn: string, random: Uint8Array): { sp: number; auxvAddr: number } {
  let sp = top;
  const pushBytes = (b: Uint8Array): number => {
    sp -= b.length;
    mem.write(sp, b);
    return sp;
  };
  const pushString = (s: string): number => pushBytes(Buffer.from(s + '\0', 'utf8'));
  pushBytes(new Uint8Array(8)); // end marker, as Linux leaves a NULL word at the very top
  const execfnAddr = pushString(execfn);
  const envAddrs = envp.map(pushString);
  const argAddrs = argv.map(pushString);
  const platformAddr = pushString('x86_64');
  sp -= sp % 16;
  const randomAddr = pushBytes(random);
  const aux: Array<[number, number]> = [
    ...auxv,
    [AT.RANDOM, randomAddr],
    [AT.EXECFN, execfnAddr],
    [AT.PLATFORM, platformAddr],
    [AT.NULL, 0],
  ];
  const words = 1 + argAddrs.length + 1 + envAddrs.length + 1 + aux.length * 2;
  sp -= sp % 16;
  sp -= words * 8;
  sp -= sp % 16;
  const table = new BigUint64Array(words);
  let k = 0;
  table[k++] = BigInt(argv.length);
  for (const a of argAddrs) table[k++] = BigInt(a);
  table[k++] = 0n;
  for (const e of envAddrs) table[k++] = BigInt(e);
  table[k++] = 0n;
  const auxvAddr = sp + k * 8;
  for (const [key, v] of aux) {
    table[k++] = BigInt(key);
    table[k++] = BigInt(v);
  }
  mem.write(sp, new Uint8Array(table.buffer));
  return { sp, auxvAddr };
}
