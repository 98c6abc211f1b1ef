/** futex(2) inside the engine: guest threads share one address space, so waiting and waking are the engine's to do. */
import type { GuestProcess } from '../process/guest-process';
import type { Thread } from '../process/thread';
import { E } from './errno';
import type { Blocked } from './syscall-decl';

interface Waiter { thread: Thread; bitset: number; woken: boolean }

export const FUTEX = { WAIT: 0, WAKE: 1, FD: 2, REQUEUE: 3, CMP_REQUEUE: 4, WAKE_OP: 5, LOCK_PI: 6, UNLOCK_PI: 7,
  TRYLOCK_PI: 8, WAIT_BITSET: 9, WAKE_BITSET: 10 } as const;
const PRIVATE = 128;
const CLOCK_REALTIME = 256;

export class FutexTable {
  private readonly waiters = new Map<number, Waiter[]>();

  constructor(private readonly proc: GuestProcess) {}

  /** futex(uaddr, op, val, timeout/val2, uaddr2, val3). */
  call(t: Thread, uaddr: number, opFull: number, val: number, timeoutPtr: number, uaddr2: number, val3: number): number | Blocked {
    const op = opFull & ~(PRIVATE | CLOCK_REALTIME);
    const mem = this.proc.mem;
    const load = (a: number): number => new DataView(mem.read(a, 4).buffer).getUint32(0, true);
    switch (op) {
      case FUTEX.WAIT:
      case FUTEX.WAIT_BITSET: {
        if (load(uaddr) !== (val >>> 0)) return -E.EAGAIN;
        const bitset = op === FUTEX.WAIT ? 0xffffffff : val3 >>> 0;
        let deadline: number | undefined;
        if (timeoutPtr) {
          const ts = mem.read(timeoutPtr, 16);
          const dv = new DataView(ts.buffer);
          const ns = Number(dv.getBigInt64(0, true)) * 1e9 + Number(dv.getBigInt64(8, true));
          if (op === FUTEX.WAIT) deadline = Date.now() + ns / 1e6;
          else if (opFull & CLOCK_REALTIME) deadline = ns / 1e6;
          else deadline = Date.now() + (ns - Number(process.hrtime.bigint())) / 1e6;
        }
        const w: Waiter = { thread: t, bitset, woken: false };
        const list = this.waiters.get(uaddr) ?? [];
        list.push(w);
        this.waiters.set(uaddr, list);
        const blocked: Blocked & { futex: number } = {
          futex: uaddr,
          deadline,
          resume: () => {
            if (w.woken) return 0;
            if (deadline !== undefined && Date.now() >= deadline) {
              this.remove(uaddr, w);
              return -E.ETIMEDOUT;
            }
            return undefined;
          },
        };
        return blocked;
      }
      case FUTEX.WAKE:
        return this.wake(uaddr, val, 0xffffffff);
      case FUTEX.WAKE_BITSET:
        return this.wake(uaddr, val, val3 >>> 0);
      case FUTEX.REQUEUE:
      case FUTEX.CMP_REQUEUE: {
        if (op === FUTEX.CMP_REQUEUE && load(uaddr) !== (val3 >>> 0)) return -E.EAGAIN;
        const woken = this.wake(uaddr, val, 0xffffffff);
        const rest = this.waiters.get(uaddr) ?? [];
        const moved = rest.splice(0, timeoutPtr /* val2: max to requeue */);
        if (moved.length) this.waiters.set(uaddr2, [...(this.waiters.get(uaddr2) ?? []), ...moved]);
        return woken + moved.length;
      }
      case FUTEX.WAKE_OP: {
        const old = load(uaddr2);
        const opk = (val3 >>> 28) & 7;
        const cmp = (val3 >>> 24) & 15;
        let oparg = (val3 >>> 12) & 0xfff;
        const cmparg = val3 & 0xfff;
        if (opk & 8) oparg = 1 << oparg;
        const ops = [(): number => oparg, (): number => old + oparg, (): number => old | oparg, (): number => old & ~oparg, (): number => old ^ oparg];
        const nv = (ops[opk & 7] ?? ops[0])() >>> 0;
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, nv, true);
        mem.write(uaddr2, b);
        let n = this.wake(uaddr, val, 0xffffffff);
        const cmps = [old === cmparg, old !== cmparg, old < cmparg, old <= cmparg, old > cmparg, old >= cmparg];
        if (cmps[cmp]) n += this.wake(uaddr2, timeoutPtr, 0xffffffff);
        return n;
      }
      default:
        return -E.ENOSYS;
    }
  }

  /** Wakes up to n waiters on addr whose bitset intersects mask. */
  wake(addr: number, n: number, mask: number): number {
    const list = this.waiters.get(addr);
    if (!list) return 0;
    let woken = 0;
    for (let i = 0; i < list.length && woken < n; i++) {
      if ((list[i].bitset & mask) === 0) continue;
      list[i].woken = true;
      list.splice(i--, 1);
      woken++;
    }
    if (!list.length) this.waiters.delete(addr);
    return woken;
  }

  private remove(addr: number, w: Waiter): void {
    const list = this.waiters.get(addr);
    if (!list) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) this.waiters.delete(addr);
  }
}
