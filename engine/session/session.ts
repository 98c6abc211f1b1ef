/**
 * One unigrind run, as the CLI and the debug adapter both drive it: options → log/XML targets,
 * the error manager with its suppressions, the guest process with the chosen tool, the run, the
 * fatal-signal report and the end-of-run summaries. It knows no DAP and prints nothing itself
 * except through the writers.
 */
import { hostSyscall } from '../host/libc';
import { ErrorManager } from '../errors/error-manager';
import { loadDefaultSuppressions } from '../errors/default-suppressions';
import { loadSuppressionFile, Suppression, SuppressionSyntaxError } from '../errors/suppressions';
import { parseLeakKinds } from '../errors/leak-kinds';
import { TextWriter } from '../report/text-writer';
import { XmlWriter } from '../report/xml-writer';
import { openLogTarget, fdSink, LogSink } from '../report/log-target';
import { reportEndOfRun, reportLeakSearch } from '../report/end-of-run';
import type { FatalSignalInfo } from '../report/events';
import { DeviceFactory, launch, Launched } from '../process/launch';
import { prepareXen, XenSetupError } from '../xen-wiring';
import { ExitStatus, GuestProcess } from '../process/guest-process';
import { Log } from '../process/log';
import { signalName } from '../process/signals';
import type { LeakState } from '../errors/error-record';
import { LeakCheckRequest, Memcheck } from '../memcheck/memcheck';
import type { DefinednessDetail } from '../memcheck/vbits';
import { parseLeakHeuristics } from '../memcheck/leak-check';
import type { Options } from '../cli/options';
import type { StackFrame } from '../debuginfo/frame';
import { debugInfoSearchPath } from '../debuginfo/debuginfo';
import { ipGroups } from '../errors/stack';

/** How a run ended, for the exit status. */
export interface SessionResult {
  status: ExitStatus;
  /** Errors counted (not suppressed), for --error-exitcode. */
  errors: number;
}

/** A bad configuration found before the guest starts: one line for the user. */
export class SessionError extends Error {}

// Our own copy of a descriptor, so a guest that closes it does not silence the report.
function dupSink(fd: number): LogSink {
  const copy = hostSyscall(72 /* fcntl */, fd, 1030 /* F_DUPFD_CLOEXEC */, 100);
  return fdSink(copy >= 0 ? copy : fd);
}

export class Session {
  readonly manager: ErrorManager;
  readonly text: TextWriter;
  readonly xml: XmlWriter | undefined;
  readonly launched: Launched;
  readonly proc: GuestProcess;
  readonly memcheck: Memcheck | undefined;
  private finished = false;
  private readonly showLeakKinds: Set<LeakState>;
  private readonly errorsForLeakKinds: Set<LeakState>;

  /**
   * @param logSink where the text log goes when neither --log-file nor --log-fd was given (the
   *   debug adapter shows it in the debug console); by default a copy of --log-fd (stderr).
   */
  constructor(readonly opts: Options, readonly prog: string, readonly args: string[], env: Record<string, string | undefined>,
    readonly toolArgs: string[], logSink?: LogSink) {
    const pid = process.pid;
    const tool = opts.tool as 'memcheck' | 'none';
    const ctx = { pid, env: process.env, cwd: process.cwd() };
    const logFdGiven = toolArgs.some((a) => a.startsWith('--log-fd='));
    const logTarget = opts['log-file']
      ? openLogTarget({ file: opts['log-file'], option: '--log-file' }, ctx)
      : logSink && !logFdGiven ? { sink: logSink, toFile: false } : { sink: dupSink(opts['log-fd'] as number), toFile: false };
    const command = [prog, ...args];
    const verbosity = opts.quiet ? 0 : opts.verbose ? 2 : 1;
    const kinds = (o: string): Set<LeakState> => {
      const k = parseLeakKinds(opts[o] as string);
      if (!k) throw new SessionError(`Bad option: --${o}=${opts[o] as string}`);
      return k;
    };
    this.showLeakKinds = kinds('show-leak-kinds');
    this.errorsForLeakKinds = kinds('errors-for-leak-kinds');
    const suppressions = this.loadSuppressions();
    this.manager = new ErrorManager({ xml: opts.xml, errorLimit: opts['error-limit'] as boolean, suppressions });
    this.text = new TextWriter({
      sink: logTarget.sink, pid, ppid: process.ppid, verbosity, tool, command, toFile: logTarget.toFile, toolArgs,
      genSuppressions: opts['gen-suppressions'] as 'no' | 'yes' | 'all', showErrorList: (opts['show-error-list'] as boolean) || undefined,
      trackOrigins: opts['track-origins'] as boolean, undefValueErrors: opts['undef-value-errors'] as boolean, xml: opts.xml,
    });
    if (opts.xml) {
      if (!opts['xml-file'] && (opts['xml-fd'] as number) < 0) throw new SessionError('--xml=yes has been specified, but there is no XML output destination. You must specify an XML output destination using --xml-fd or --xml-file.');
      const x = opts['xml-file'] ? openLogTarget({ file: opts['xml-file'], option: '--xml-file' }, ctx) : { sink: dupSink(opts['xml-fd'] as number) };
      this.xml = new XmlWriter({
        sink: x.sink, pid, ppid: process.ppid, command, launcher: process.argv[1], toolArgs, xmlFileTemplate: opts['xml-file'] || undefined,
        userComment: (opts['xml-user-comment'] as string) || undefined, genSuppressions: opts['gen-suppressions'] === 'all',
        verbosity, showErrorList: opts['show-error-list'] as boolean,
      });
    }
    const log = new Log(0, pid);
    // Engine warnings go through the text writer's sink with the ==PID== prefix.
    log.line = (t = '') => this.text.umsg(t + '\n');
    this.launched = launch(prog, args, env, {
      traceSyscalls: opts['trace-syscalls'], log, devices: this.xenDevices(),
      debugInfoPath: debugInfoSearchPath(opts['extra-debuginfo-path'] as string),
    });
    this.proc = this.launched.proc;
    this.proc.clientRequests.print = (t) => logTarget.sink.write(`**${pid}** ${t}`);
    if (tool === 'memcheck') {
      const heuristics = parseLeakHeuristics(opts['leak-check-heuristics'] as string);
      if (!heuristics) throw new SessionError(`Bad option: --leak-check-heuristics=${opts['leak-check-heuristics'] as string}`);
      this.memcheck = new Memcheck(this.proc, this.manager, {
        numCallers: opts['num-callers'], redzoneSize: opts['redzone-size'] as number, freelistVol: opts['freelist-vol'] as number,
        freelistBigBlocks: opts['freelist-big-blocks'] as number,
        mallocFill: (opts['malloc-fill'] as number) >= 0 ? (opts['malloc-fill'] as number) : undefined,
        freeFill: (opts['free-fill'] as number) >= 0 ? (opts['free-fill'] as number) : undefined,
        partialLoadsOk: opts['partial-loads-ok'] as boolean, showMismatchedFrees: opts['show-mismatched-frees'] as boolean,
        heuristics, leakResolution: opts['leak-resolution'] as 'low' | 'med' | 'high',
      });
      this.memcheck.attach(opts.jit as boolean, {
        undefValueErrors: opts['undef-value-errors'] as boolean, detail: opts['expensive-definedness-checks'] as DefinednessDetail,
        trackOrigins: opts['track-origins'] as boolean,
      });
      this.memcheck.onLeakCheckRequest = (r) => this.leakCheckRequested(r);
      // Valgrind's --run-libc-freeres=yes and --run-cxx-freeres=yes.
      this.proc.freeresNames = ['__libc_freeres', '_ZN9__gnu_cxx9__freeresEv'];
    } else if (toolArgs.includes('--jit=yes')) {
      // Without definedness to track, Unicorn alone runs faster: the translator only when asked for.
      this.proc.enableJit();
    }
    this.text.attach(this.manager);
    this.xml?.attach(this.manager);
  }

  // --xen / --xen-config: without --xen the host decides (real Xen where /dev/xen/privcmd exists).
  private xenDevices(): DeviceFactory | undefined {
    try {
      return prepareXen({
        mode: this.toolArgs.some((w) => w.startsWith('--xen=')) ? (this.opts.xen as 'sim' | 'host') : undefined,
        configFile: (this.opts['xen-config'] as string) || undefined,
      });
    } catch (e) {
      if (e instanceof XenSetupError) throw new SessionError(e.message);
      throw e;
    }
  }

  private loadSuppressions(): Suppression[] {
    const out: Suppression[] = [];
    try {
      if (this.opts['default-suppressions'] as boolean) out.push(...loadDefaultSuppressions());
      for (const f of this.opts.suppressions) out.push(...loadSuppressionFile(f));
    } catch (e) {
      if (e instanceof SuppressionSyntaxError) throw new SessionError(`in suppressions file "${e.file}" near line ${e.line}: ${e.reason}`);
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new SessionError(`cannot open suppressions file "${err.path ?? ''}"`);
      throw e;
    }
    return out;
  }

  /** Writes the preambles. */
  start(): void {
    this.text.preamble();
    this.xml?.preamble();
  }

  /** Runs the guest to its end and writes the end-of-run report. */
  async run(): Promise<SessionResult> {
    const status = await this.proc.run();
    return this.finish(status);
  }

  /** The fatal-signal report and the end-of-run summaries (once). */
  finish(status: ExitStatus): SessionResult {
    if (!this.finished) {
      this.finished = true;
      if (status.signal !== undefined) this.reportFatalSignal(status);
      this.endOfRun();
    }
    return { status, errors: this.manager.counts().errors };
  }

  private reportFatalSignal(st: ExitStatus): void {
    const sig = st.signal!;
    const f = st.fault;
    const kernelSent = f !== undefined && f.code > 0;
    const events: Record<number, Record<number, string>> = {
      11: { 1: 'Access not within mapped region', 2: 'Bad permissions for mapped region', 128: 'General Protection Fault' },
      4: { 2: 'Illegal opcode' }, 8: { 1: 'Integer divide by zero' },
    };
    const event = f ? events[sig]?.[f.code] : undefined;
    const info: FatalSignalInfo = {
      tid: this.proc.current.number, signo: sig, signame: signalName(sig), sicode: f?.code ?? 0,
      ...(event ? { event } : {}),
      ...(event && f && f.code !== 128 ? { address: f.addr } : {}),
      core: false,
      stack: this.stackForReport(this.proc.debug.stackOf(this.proc.uc, this.opts['num-callers'])),
      ...(sig === 11 && kernelSent ? { mainStackSize: this.opts['main-stacksize'] as number } : {}),
    };
    this.text.fatalSignal(info);
    this.xml?.fatalSignal(info);
  }

  /**
   * With --read-inline-info=no (Valgrind's default for --tool=none), one frame per address, named
   * after the physical function, with the line-table position of that address (the innermost code).
   */
  private stackForReport(frames: StackFrame[]): StackFrame[] {
    if (this.opts['read-inline-info'] as boolean) return frames;
    return ipGroups(frames).map((g) => {
      const physical = g[g.length - 1];
      const inner = g[0];
      const f: StackFrame = { ...physical };
      delete f.dir;
      delete f.file;
      delete f.line;
      if (inner.dir !== undefined) f.dir = inner.dir;
      if (inner.file !== undefined) f.file = inner.file;
      if (inner.line !== undefined) f.line = inner.line;
      return f;
    });
  }

  private endOfRun(): void {
    const mc = this.memcheck;
    const tool = this.opts.tool as 'memcheck' | 'none';
    const leakMode = this.opts['leak-check'] as 'no' | 'summary' | 'full';
    // XML forces the exit-time search even with --leak-check=no (reportEndOfRun does the same).
    const leaks = mc && (leakMode !== 'no' || this.xml) ? mc.reportedLeakSearch() : undefined;
    const summary = reportEndOfRun({
      manager: this.manager, text: this.text, xml: this.xml, tool,
      heap: mc ? { inUseBytes: mc.heap.inUseBytes, inUseBlocks: mc.heap.inUseBlocks, allocs: mc.heap.totalAllocs, frees: mc.heap.totalFrees, bytesAllocated: mc.heap.totalBytesAllocated } : undefined,
      leakCheck: leakMode, showLeakKinds: this.showLeakKinds, errorsForLeakKinds: this.errorsForLeakKinds,
      lossRecords: leaks?.records ?? [], heuristics: leaks?.heuristics,
    });
    if (mc && summary) mc.leakHistory.summary = summary;
    if (this.opts.stats as boolean) this.printStats();
  }

  /**
   * A leak search the guest asked for (VALGRIND_DO_LEAK_CHECK, …_ADDED_…, …_CHANGED_…,
   * …_QUICK_…): reported at once, as at exit but without the HEAP SUMMARY, whatever --leak-check
   * says; delta searches show each figure's change since the previous search.
   */
  private leakCheckRequested(r: LeakCheckRequest): void {
    const mc = this.memcheck!;
    for (const w of r.warnings) this.text.umsg(`${w}\n`);
    const { records, heuristics } = mc.reportedLeakSearch();
    const summary = reportLeakSearch({
      manager: this.manager, text: this.text, records, heuristics, previous: mc.leakHistory.summary,
      params: { mode: r.mode, delta: r.delta, showKinds: this.showLeakKinds, errorsForKinds: this.errorsForLeakKinds },
    });
    if (summary) mc.leakHistory.summary = summary;
  }

  // --stats=yes: how guest code was executed (the share the translator ran is issue 4's measure).
  private printStats(): void {
    const j = this.proc.jit;
    if (!j) {
      this.text.umsg('translator: off (--jit=no): every instruction ran on Unicorn\n');
      return;
    }
    const st = j.stats;
    const total = st.translatedInsns + st.steppedInsns;
    const pct = total ? ((100 * st.translatedInsns) / total).toFixed(4) : '100';
    this.text.umsg(`translator: ${total} guest instructions, ${st.translatedInsns} translated (${pct}%), ${st.steppedInsns} single-stepped on Unicorn\n`);
    this.text.umsg(`translator: ${st.translations} translations (${st.compiled} compiled to JS), ${st.syscalls} syscalls\n`);
    if (st.fastTranslations) {
      this.text.umsg(`translator: ${st.fastTranslations} fast translations (values assumed defined), ${st.slowPaths} exits from them to full ones\n`);
    }
  }
}
