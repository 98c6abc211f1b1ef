/** One guest thread: its saved CPU context and scheduling state (threads run one at a time, as under Valgrind's big lock). */
import type { CpuContext } from '../cpu/unicorn';
import type { Blocked } from '../kernel/syscall-decl';
import type { FaultInfo } from './signals';

export type ThreadState = 'runnable' | 'blocked' | 'dead';

export class Thread {
  state: ThreadState = 'runnable';
  /** Saved CPU state while another thread runs; undefined while this thread is loaded. */
  ctx: CpuContext | undefined;
  /** Why it waits, while blocked. */
  blocked: Blocked | undefined;
  /** A syscall result to put in rax when the thread next runs (after a wait). */
  pendingResult: number | undefined;
  /** CLONE_CHILD_CLEARTID / set_tid_address: cleared and futex-woken at thread exit (pthread_join waits on it). */
  clearChildTid = 0;
  robustList = 0;
  /** Blocked signal mask (bit n-1 for signal n). */
  sigmask = 0n;
  /** sigaltstack: [ss_sp, ss_flags, ss_size]. */
  altStack: [number, number, number] = [0, 2 /* SS_DISABLE */, 0];
  /** Signals sent to this thread (tgkill) not yet delivered. */
  pending: FaultInfo[] = [];
  /** Stack extent for reports ("is on thread N's stack") and the leak check's roots. */
  stackLow = 0;
  stackHigh = 0;

  constructor(readonly tid: number, readonly number: number) {}
}
