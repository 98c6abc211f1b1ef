/**
 * The debugger runtime over one unigrind Session, knowing no DAP (vscode-mock-debug's
 * MockRuntime in spirit): it starts the guest, turns memcheck errors, breakpoint hits, steps and
 * pauses into stops, and answers the questions a debugger asks while stopped. It reports through
 * events; debug-session.ts maps each to one DAP event and each DAP request to one method here.
 *
 * The engine runs in this process with `responsive` set, so the run loop yields to the event loop
 * every few tens of milliseconds and requests (pause, disconnect) are served while the guest runs.
 * A stop is the run loop awaiting `onStopped`: the guest stays where it is until a command
 * (continue, step, kill) resolves it.
 *
 * Events: stopOnEntry, stopOnBreakpoint(kind, ids), stopOnStep, stopOnPause,
 * stopOnException(ExceptionStop), output(text, category), errorRecord(ProtocolErrorRecord),
 * breakpointChanged(RuntimeBreakpoint), process(pid, name), exited(code), end.
 */
import { EventEmitter } from 'events';
import * as path from 'path';
import { BadProgramError } from '../engine/elf/elf-file';
import { UC_HOOK_CODE, X86 } from '../engine/cpu/x86-const';
import { DebugInfo, debugInfoSearchPath } from '../engine/debuginfo/debuginfo';
import { VariableReader } from '../engine/debuginfo/variables';
import type { ErrorContext } from '../engine/errors/error-manager';
import { ErrorRecord, isLeakKind } from '../engine/errors/error-record';
import { generateSuppressionParts } from '../engine/errors/suppressions';
import { printedFrames } from '../engine/errors/stack';
import { OptionError } from '../engine/cli/options';
import type { GuestProcess } from '../engine/process/guest-process';
import type { Thread } from '../engine/process/thread';
import { LogFileNameError, LogSink } from '../engine/report/log-target';
import { errorText } from '../engine/report/text-writer';
import { Session, SessionError } from '../engine/session/session';
import type { ErrorRecord as ProtocolErrorRecord } from '../server/protocol';
import { protocolRecord } from '../server/engine-records';
import { Breakpoints, RuntimeBreakpoint } from './breakpoints';
import { Disassembler, RuntimeInstruction } from './disassembly';
import { StopPolicy } from './exception-filters';
import { EvaluationError, FrameValues } from './frame-values';
import { GuestMemoryView, MemoryRead } from './guest-view';
import { GuestStdio } from './guest-stdio';
import { CommandLine, LaunchArguments, LaunchError, toCommandLine } from './launch-config';
import { Monitor, MonitorError } from './monitor';
import { FrameBuilder, RuntimeFrame } from './stack';
import { Stepper, StepKind } from './stepping';
import type { RuntimeVariable } from './values';

export type { RuntimeFrame } from './stack';
export type { RuntimeVariable } from './values';
export type { RuntimeBreakpoint } from './breakpoints';
export type { RuntimeInstruction } from './disassembly';
export type { MemoryRead } from './guest-view';

const SIGKILL = 9;
const SIGTERM = 15;

/** A stop on memcheck errors: one error, or every loss record after the leak check at exit. */
export interface ExceptionStop {
  /** The error kind (Memcheck's XML <kind>), or "Leak" for the leak stop. */
  kind: string;
  /** The primary line (`what`), or the leak summary line. */
  what: string;
  /** The full Valgrind text of each error of the stop. */
  records: ErrorRecord[];
  threadId: number;
  leaks: boolean;
}

/** Output categories of the debug console. */
export type OutputCategory = 'console' | 'stdout' | 'stderr' | 'important';

/** What the guest is doing. */
type Command = { kind: 'continue' } | { kind: 'step'; step: StepKind } | { kind: 'instruction' } | { kind: 'kill' };

/** A stop waiting to be shown: its kind (exception, entry, step, pause, or a breakpoint kind). */
interface PendingStop { kind: string; exception?: ExceptionStop; ids?: number[] }

interface CurrentStop {
  thread: Thread | undefined;
  exception?: ExceptionStop;
  frames: Map<number, RuntimeFrame[]>;
}

export class UnigrindRuntime extends EventEmitter {
  private cmd!: CommandLine;
  private session!: Session;
  private proc!: GuestProcess;
  private vars!: VariableReader;
  private frames!: FrameBuilder;
  private values!: FrameValues;
  private view!: GuestMemoryView;
  private breakpoints!: Breakpoints;
  private stepper!: Stepper;
  private monitor!: Monitor;
  private disassembler!: Disassembler;
  private stdio: GuestStdio | undefined;
  private policy = new StopPolicy();
  /** Whether the text log (with each error's text) reaches the debug console. */
  private errorsInLog = false;

  private stopped: CurrentStop | undefined;
  private resume: ((c: Command) => void) | undefined;
  /** Errors reported but not yet shown as stops (several can occur in one instruction). */
  private readonly errorQueue: ErrorContext[] = [];
  private readonly leaks: ErrorContext[] = [];
  private readonly dirty = new Set<ErrorContext>();
  private dirtyTimer: NodeJS.Timeout | undefined;
  private pauseRequested = false;
  /** An error wants a stop: the instruction hook stops before the next instruction. */
  private stopSoon = false;
  private stepArrived = false;
  private killed = false;
  private running = false;
  private ended: Promise<void> | undefined;

  /** Validates the launch configuration, loads the program (it does not run yet). */
  async start(args: LaunchArguments): Promise<void> {
    this.cmd = toCommandLine(args);
    const c = this.cmd;
    this.policy = new StopPolicy(c.noDebug ? 'none' : c.stopOnError);
    try {
      // Relative paths the guest opens are the host process's: this process exists for this one guest.
      process.chdir(c.cwd);
      // The guest's own output first, so the console keeps the order in which things happened.
      const logSink: LogSink = { write: (t) => { this.stdio?.flush(); this.emit('output', t, 'console'); }, close: () => undefined };
      this.session = new Session(c.opts, c.program, c.args, c.env, c.toolArgs, logSink);
    } catch (e) {
      throw launchError(e);
    }
    this.errorsInLog = !c.opts.xml && !c.opts['log-file'] && !c.toolArgs.some((a) => a.startsWith('--log-fd='));
    const proc = this.session.proc;
    this.proc = proc;
    proc.responsive = true;
    proc.onStopped = (r) => this.onStopped(r);
    this.stdio = new GuestStdio((text, stream) => this.emit('output', text, stream));
    this.stdio.attach(proc.fds);
    // Variables come from the same debug files as the stacks (--extra-debuginfo-path included).
    this.vars = new VariableReader(this.debug(), debugInfoSearchPath(c.opts['extra-debuginfo-path'] as string | undefined));
    this.frames = new FrameBuilder(proc, this.debug(), this.vars);
    this.view = new GuestMemoryView(proc, this.session.memcheck, this.debug());
    this.values = new FrameValues(proc, this.vars, this.view, (f) => this.isLiveTop(f));
    this.breakpoints = new Breakpoints(proc, () => this.debug(), !c.noDebug);
    this.stepper = new Stepper(proc, () => this.debug(), this.vars.cfi);
    this.monitor = new Monitor(proc, this.session.memcheck, this.session.manager, c.opts['vgdb-error'] as number);
    this.disassembler = new Disassembler(proc.mem, () => this.debug());
    await this.disassembler.init();
    this.session.manager.on('error', (ctx, isNew) => this.onError(ctx, isNew));
    // Libraries mapped later may hold pending breakpoints (a function breakpoint on a libc function).
    proc.debug.onModule(() => {
      for (const bp of this.breakpoints.resolvePending()) this.emit('breakpointChanged', bp);
    });
    if (!c.noDebug) this.watchInstructions();
    // stopOnEntry stops at main, or at the first instruction of a program without one.
    if (c.stopOnEntry && !c.noDebug && !this.breakpoints.setEntry()) this.breakpoints.setEntry(proc.uc.reg_read_num(X86.RIP));
    this.emit('process', proc.pid, c.program);
    this.session.start();
  }

  /** Runs the guest (after the client's configuration); resolves when the session has ended. */
  run(): Promise<void> {
    this.ended ??= this.runGuest();
    return this.ended;
  }

  /**
   * One code hook on every instruction, for as long as the session lives, decides every stop:
   * breakpoints, steps, and errors (which stop before the instruction after the one that erred).
   *
   * Measured with Debian's Unicorn 2.0.1: once any UC_HOOK_CODE exists, a uc_emu_stop from a block
   * or memory hook (the engine's time slices, an error found by memcheck's access hook) resumes
   * from a stale RIP — only addresses inside a code hook's range keep RIP in sync — and the guest
   * re-executes or skips code and crashes. A hook covering every address keeps RIP exact
   * everywhere, and stopping from a code hook stops cleanly before its instruction. It costs a
   * JS call per instruction (about 1.6x on a memcheck run); runs without debugging do without.
   */
  private watchInstructions(): void {
    const proc = this.proc;
    const check = (pc: number): void => {
      let stop = this.stopSoon;
      this.stopSoon = false;
      // A breakpoint here still counts when an error stops here too: the stop shows both in turn.
      if (!this.breakpoints.empty && this.breakpoints.check(pc)) {
        stop = true;
      } else if (this.stepper.active && this.stepper.check(pc)) {
        this.stepArrived = true;
        stop = true;
      }
      if (stop) proc.requestStop('instruction hook');
    };
    // On the translator the same check runs before each instruction it executes.
    if (proc.jit) proc.jit.watch = check;
    else proc.uc.hook_add(UC_HOOK_CODE, (_uc: unknown, address: number | bigint) => check(Number(address)), 1, 0);
  }

  private debug(): DebugInfo {
    return this.proc.debug.get();
  }

  private async runGuest(): Promise<void> {
    this.running = true;
    let code = 1;
    try {
      const { status, errors } = await this.session.run();
      code = status.signal !== undefined ? 128 + status.signal : status.code ?? 0;
      const errorExit = this.cmd.opts['error-exitcode'] as number;
      if (errors > 0 && errorExit !== 0) code = errorExit;
    } catch (e) {
      this.emit('output', `unigrind: internal error: ${(e as Error).stack ?? String(e)}\n`, 'important');
    }
    this.running = false;
    this.stdio?.flush();
    this.flushRecords();
    // Errors right before the guest died (an invalid access that then faulted) had no next
    // instruction to stop at: show them now, with their own stacks.
    for (const ctx of this.errorQueue.splice(0)) {
      if (this.killed) break;
      await this.present({ kind: 'exception', exception: this.errorStop(ctx) }, undefined);
      this.finishStop();
    }
    if (this.leaks.length && this.policy.stopsOnLeaks && !this.killed) {
      const records = this.leaks.map((l) => l.record);
      await this.present({ kind: 'exception', exception: this.leakStop(records) }, undefined);
      this.finishStop();
    }
    this.stdio?.close();
    this.stdio = undefined;
    this.stepper.cancel();
    this.emit('exited', code);
    this.emit('end');
  }

  // ------------------------------------------------------------ errors

  private onError(ctx: ErrorContext, isNew: boolean): void {
    if (!isNew) {
      // Repeats only change the count: send them in batches.
      this.dirty.add(ctx);
      this.dirtyTimer ??= setTimeout(() => this.flushRecords(), 250);
      return;
    }
    this.emit('errorRecord', toProtocol(ctx));
    if (!this.errorsInLog) {
      this.stdio?.flush();
      this.emit('output', prefixed(errorText(ctx.record), this.proc.pid), 'console');
    }
    if (isLeakKind(ctx.record.kind)) {
      // Loss records come from the leak check at exit: they make one stop once it is complete.
      if (this.proc.exit) this.leaks.push(ctx);
      return;
    }
    if (this.policy.stopsOn(ctx.record) && !this.killed) {
      this.errorQueue.push(ctx);
      // Not from here (likely memcheck's memory hook, mid-instruction): before the next instruction.
      this.stopSoon = true;
    }
  }

  private flushRecords(): void {
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    this.dirtyTimer = undefined;
    for (const ctx of this.dirty) this.emit('errorRecord', toProtocol(ctx));
    this.dirty.clear();
  }

  private errorStop(ctx: ErrorContext): ExceptionStop {
    return { kind: ctx.record.kind, what: ctx.record.what, records: [ctx.record], threadId: ctx.record.tid || 1, leaks: false };
  }

  private leakStop(records: ErrorRecord[]): ExceptionStop {
    const bytes = records.reduce((n, r) => n + (r.leak ? r.leak.bytes + r.leak.indirectBytes : 0), 0);
    return {
      kind: 'Leak', what: `${records.length} loss record${records.length === 1 ? '' : 's'} at exit: ${bytes} bytes leaked or still in use`,
      records, threadId: 1, leaks: true,
    };
  }

  // ------------------------------------------------------------ stops

  private async onStopped(_reason: unknown): Promise<void> {
    this.stepper.cancel();
    const pending: PendingStop[] = [];
    for (const ctx of this.errorQueue.splice(0)) pending.push({ kind: 'exception', exception: this.errorStop(ctx) });
    const own = this.ownStop();
    if (own) pending.push(own);
    while (pending.length) {
      const stop = pending.shift() as PendingStop;
      const cmd = await this.present(stop, this.proc.current);
      if (cmd.kind === 'kill') return this.finishStop();
      // A resume with stops still queued shows the next one (they happened at the same point).
      if (pending.length) continue;
      if (cmd.kind === 'instruction') {
        // A breakpoint on this very instruction must not report itself again.
        this.breakpoints.skipOnce(this.proc.uc.reg_read_num(X86.RIP));
        this.proc.stepInstruction();
        this.breakpoints.hit = [];
        this.stopSoon = false;
        if (this.proc.exit) break;
        for (const ctx of this.errorQueue.splice(0)) pending.push({ kind: 'exception', exception: this.errorStop(ctx) });
        if (pending.length === 0) pending.push({ kind: 'step' });
        continue;
      }
      if (cmd.kind === 'step') this.stepper.begin(cmd.step, this.frames.liveStates(this.proc.current));
    }
    this.finishStop();
    this.breakpoints.skipOnce(this.proc.uc.reg_read_num(X86.RIP));
  }

  /** The stop this wake-up is about besides queued errors: a breakpoint, a finished step, a pause. */
  private ownStop(): PendingStop | undefined {
    const hit = this.breakpoints.hit;
    this.breakpoints.hit = [];
    const step = this.stepArrived;
    const pause = this.pauseRequested;
    this.stepArrived = false;
    this.pauseRequested = false;
    if (hit.length) {
      if (hit.some((b) => b.kind === 'entry')) {
        this.breakpoints.clearEntry();
        if (hit.every((b) => b.kind === 'entry')) return { kind: 'entry' };
      }
      const real = hit.filter((b) => b.kind !== 'entry');
      return { kind: real[0].kind, ids: real.map((b) => b.id) };
    }
    if (step) return { kind: 'step' };
    if (pause) return { kind: 'pause' };
    return undefined;
  }

  /** Shows a stop and waits for the command that ends it. */
  private present(stop: PendingStop, thread: Thread | undefined): Promise<Command> {
    this.frames.reset();
    this.stopped = { thread, frames: new Map(), ...(stop.exception ? { exception: stop.exception } : {}) };
    this.stdio?.flush();
    this.flushRecords();
    const threadId = stop.exception?.threadId ?? thread?.number ?? 1;
    const done = new Promise<Command>((resolve) => {
      this.resume = resolve;
    });
    switch (stop.kind) {
      case 'exception': this.emit('stopOnException', stop.exception); break;
      case 'entry': this.emit('stopOnEntry', threadId); break;
      case 'step': this.emit('stopOnStep', threadId); break;
      case 'pause': this.emit('stopOnPause', threadId); break;
      default: this.emit('stopOnBreakpoint', stop.kind, stop.ids ?? [], threadId);
    }
    return done;
  }

  private finishStop(): void {
    this.stopped = undefined;
    this.resume = undefined;
    this.frames.reset();
  }

  private command(c: Command): void {
    const r = this.resume;
    if (!r) return;
    this.resume = undefined;
    r(c);
  }

  /** Whether the guest is stopped (requests about state are answered only then). */
  get isStopped(): boolean {
    return this.stopped !== undefined;
  }

  // ------------------------------------------------------------ commands

  continue(): void {
    this.command({ kind: 'continue' });
  }

  step(kind: StepKind): void {
    // Stepping needs a live stack; at the leak stop after exit there is none.
    this.command(this.running ? { kind: 'step', step: kind } : { kind: 'continue' });
  }

  stepInstruction(): void {
    this.command(this.running ? { kind: 'instruction' } : { kind: 'continue' });
  }

  /** Stops the running guest as soon as possible. */
  pause(): void {
    if (this.stopped || !this.running) return;
    this.pauseRequested = true;
    this.proc.requestStop('pause');
  }

  /** Asks the guest to end (SIGTERM, which it may handle), as a terminal's Ctrl-C would. */
  terminate(): void {
    if (!this.running) return this.continue();
    this.proc.raise(SIGTERM);
    this.continue();
  }

  /**
   * Ends the guest now (SIGKILL) and waits until the report (text and XML) is complete: the run
   * loop delivers the signal at its next slice, and the session writes the end of run as usual.
   */
  async kill(): Promise<void> {
    this.killed = true;
    if (!this.session) return;
    // A guest that never ran is killed at its first slice: its report is still written.
    if (this.running || !this.ended) this.proc.raise(SIGKILL);
    this.command({ kind: 'kill' });
    await this.run();
  }

  // ------------------------------------------------------------ breakpoints

  setSourceBreakpoints(file: string, lines: number[]): RuntimeBreakpoint[] {
    return this.breakpoints.setSource(path.resolve(file), lines);
  }

  setFunctionBreakpoints(names: string[]): RuntimeBreakpoint[] {
    return this.breakpoints.setFunctions(names);
  }

  setInstructionBreakpoints(addresses: number[]): RuntimeBreakpoint[] {
    return this.breakpoints.setInstructions(addresses);
  }

  setExceptionFilters(filters: string[]): void {
    this.policy.setFilters(filters);
  }

  // ------------------------------------------------------------ state

  /** Live guest threads (thread 1 alone once the guest has ended). */
  threads(): Array<{ id: number; name: string }> {
    const live = this.proc.threads.filter((t) => t.state !== 'dead');
    if (live.length === 0) return [{ id: 1, name: 'main' }];
    return live.map((t) => ({ id: t.number, name: `thread ${t.number} (tid ${t.tid})` }));
  }

  /** The current exception stop, for exceptionInfo. */
  exception(): ExceptionStop | undefined {
    return this.stopped?.exception;
  }

  /** The frames of a thread at this stop: an error's own stack for the thread that hit it. */
  stack(threadId: number): RuntimeFrame[] {
    const s = this.stopped;
    if (!s) return [];
    const cached = s.frames.get(threadId);
    if (cached) return cached;
    const t = this.running ? this.proc.threads.find((x) => x.number === threadId && x.state !== 'dead') : undefined;
    let frames: RuntimeFrame[];
    if (s.exception && s.exception.threadId === threadId) {
      const rec = s.exception.leaks ? s.exception.records[s.exception.records.length - 1] : s.exception.records[0];
      frames = this.frames.ofError(rec.stack, t);
    } else {
      frames = t ? this.frames.live(t) : [];
    }
    s.frames.set(threadId, frames);
    return frames;
  }

  /** Locals and registers of a frame, as lazily computed lists. */
  scopes(frameId: number): Array<{ name: string; presentationHint: 'locals' | 'registers'; variables: () => RuntimeVariable[] }> {
    const f = this.frames.get(frameId);
    if (!f) return [];
    return [
      { name: 'Locals', presentationHint: 'locals', variables: () => this.values.locals(f) },
      { name: 'Registers', presentationHint: 'registers', variables: () => (f.state ? this.values.registers(f) : []) },
    ];
  }

  /**
   * The debug console: `monitor <command>` runs a memcheck monitor command; anything else is an
   * expression over the frame's variables.
   */
  evaluate(expression: string, frameId: number | undefined): RuntimeVariable {
    const m = /^\s*monitor(?:\s+(.*))?$/s.exec(expression);
    try {
      if (m) return { name: expression, value: this.monitor.run(m[1] ?? 'help') };
      const f = frameId !== undefined ? this.frames.get(frameId) : undefined;
      return this.values.evaluate(expression, f ?? this.topFrame());
    } catch (e) {
      if (e instanceof EvaluationError || e instanceof MonitorError) throw e;
      throw new EvaluationError((e as Error).message);
    }
  }

  private topFrame(): RuntimeFrame | undefined {
    const t = this.stopped?.thread;
    return t ? this.stack(t.number)[0] : undefined;
  }

  /** Whether a frame's registers are the CPU's own (the innermost live frame of the current thread). */
  private isLiveTop(f: RuntimeFrame): boolean {
    return this.running && f.state !== undefined && f.state.exact && f.state.pc === this.proc.uc.reg_read_num(X86.RIP)
      && this.stopped?.thread === this.proc.current;
  }

  readMemory(address: number, count: number): MemoryRead {
    return this.view.readMemory(address, count);
  }

  disassemble(address: number, instructionOffset: number, count: number): RuntimeInstruction[] {
    return this.disassembler.window(address, instructionOffset, count);
  }

  /** The address the stopped thread is at, for the disassembly view. */
  get pc(): number {
    return this.proc.uc.reg_read_num(X86.RIP);
  }
}

/** A launch failure as an error that names the attribute at fault. */
function launchError(e: unknown): Error {
  if (e instanceof LaunchError) return e;
  if (e instanceof BadProgramError) return new LaunchError('program', e.message);
  if (e instanceof LogFileNameError || e instanceof OptionError) return new LaunchError('valgrindArgs', e.message);
  if (e instanceof SessionError) {
    const attr = /suppressions/.test(e.message) ? 'suppressions' : /xen/i.test(e.message) ? 'xen' : 'valgrindArgs';
    return new LaunchError(attr, e.message);
  }
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT' || err.code === 'EACCES') return new LaunchError('program', err.message);
  return e as Error;
}

/** `==PID== ` before each line, as the text log has it. */
function prefixed(text: string, pid: number): string {
  return text.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1).map((l) => `==${pid}== ${l}\n`).join('') + `==${pid}== \n`;
}

/** The error as the language server's protocol carries it (Valgrind's XML <error>): stacks cut at main as printed. */
function toProtocol(ctx: ErrorContext): ProtocolErrorRecord {
  const rec = ctx.record;
  const printed = {
    ...rec,
    stack: printedFrames(rec.stack),
    aux: rec.aux.map((a) => (a.stack ? { ...a, stack: printedFrames(a.stack) } : a)),
  };
  return protocolRecord(printed, ctx.unique, ctx.count, generateSuppressionParts(rec));
}
