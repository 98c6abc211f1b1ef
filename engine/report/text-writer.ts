/**
 * Valgrind-style text output (the log): the preamble, each error as it is shown, collection-limit
 * messages, fatal signals, HEAP SUMMARY, LEAK SUMMARY with its hints, and the closing ERROR
 * SUMMARY with the `-s` listing and `used_suppression` lines. Every line carries the `==PID== `
 * prefix (`--PID-- ` for verbose lines) except generated suppressions, which Valgrind prints bare.
 */
import type { ErrorRecord } from '../errors/error-record';
import type { ErrorContext, ErrorManager, LimitEvent } from '../errors/error-manager';
import {
  COLLECT_ERRORS_SLOWLY_AFTER, COLLECT_NO_ERRORS_AFTER_FOUND, COLLECT_NO_ERRORS_AFTER_SHOWN,
} from '../errors/error-manager';
import { hexLower, withCommas, withDelta } from '../errors/format';
import type { LeakCheckParams, LeakSummary } from '../errors/leak-report';
import { printedFrames } from '../errors/stack';
import { generateSuppression } from '../errors/suppressions';
import type { FatalSignalInfo, HeapSummary } from './events';
import { stackTextLines } from './frames';
import type { LogSink } from './log-target';
import { preambleLines, UNIGRIND_VERSION } from './preamble';
import type { ToolName } from './preamble';

/** Options of the text writer. */
export interface TextWriterOptions {
  sink: LogSink;
  pid: number;
  /** Parent pid, printed as "Parent PID:" when the log goes to a file. */
  ppid?: number;
  /** 0 for -q, 1 by default, 2 or more for -v. */
  verbosity?: number;
  tool?: ToolName;
  /** The client's argv (program then arguments), for "Command:". */
  command: readonly string[];
  /** True when the log goes to a file (--log-file), not to a file descriptor. */
  toFile?: boolean;
  /** Valgrind-level options, listed under "Valgrind options:" with -v. */
  toolArgs?: readonly string[];
  /** --error-markers=BEGIN,END. */
  errorMarkers?: { begin?: string; end?: string };
  /** --gen-suppressions. `yes` is treated as `all`: there is no interactive terminal to ask. */
  genSuppressions?: 'no' | 'yes' | 'all';
  showBelowMain?: boolean;
  fullpathAfter?: readonly string[];
  /** -s / --show-error-list; default: on with -v. */
  showErrorList?: boolean;
  /** --track-origins=yes (suppresses the "Use --track-origins=yes" hint). */
  trackOrigins?: boolean;
  /** --undef-value-errors (default yes); with no, the origins hint is never printed. */
  undefValueErrors?: boolean;
  /** XML mode: Valgrind writes almost nothing to the text log then (errors and summaries go to
   * the XML); only the messages it still logs are written. */
  xml?: boolean;
  /** Version shown in the identity lines. */
  version?: string;
}

/** The text writer. */
export class TextWriter {
  private readonly o: TextWriterOptions;
  private readonly verbosity: number;
  private readonly showErrorList: boolean;
  private readonly xml: boolean;
  private lastTidPrinted = 1;
  private anyValueErrors = false;

  constructor(options: TextWriterOptions) {
    this.o = options;
    this.verbosity = options.verbosity ?? 1;
    this.xml = options.xml ?? false;
    this.showErrorList = options.showErrorList ?? (this.xml ? this.verbosity >= 1 : this.verbosity >= 2);
  }

  /** A user message (`==PID== `), one prefixed line per line of text; text ends with "\n". */
  umsg(text: string): void {
    this.out('==', text);
  }

  /** A debug/verbose message (`--PID-- `). */
  dmsg(text: string): void {
    this.out('--', text);
  }

  private out(mark: string, text: string): void {
    const prefix = `${mark}${this.o.pid}${mark} `;
    const lines = text.split('\n');
    // A trailing newline ends the last line; it does not start another one.
    if (lines[lines.length - 1] === '') lines.pop();
    this.o.sink.write(lines.map((l) => prefix + l + '\n').join(''));
  }

  /** Subscribe to the manager: shown errors are printed, limit messages too. Returns an
   * unsubscribe function. */
  attach(manager: ErrorManager): () => void {
    const offError = manager.on('error', (ctx, isNew) => { if (isNew) this.error(ctx.record); });
    const offLimit = manager.on('limit', (which, threshold) => this.limit(which, threshold));
    return () => { offError(); offLimit(); };
  }

  /** The banner, as Valgrind prints it at startup (nothing at -q or in XML mode). With -v
   * Valgrind goes on with host details (/proc/version, hwcaps, page sizes, library directory)
   * that describe Valgrind itself; unigrind prints only the "Valgrind options:" list. */
  preamble(): void {
    if (this.xml || this.verbosity === 0) return;
    const lines = preambleLines(this.o.tool ?? 'memcheck', this.o.command, 'text', this.o.version ?? UNIGRIND_VERSION);
    let text = lines.join('\n') + '\n';
    if (this.o.toFile) text += `Parent PID: ${this.o.ppid ?? process.ppid}\n`;
    this.umsg(text + '\n');
    if (this.verbosity > 1) {
      if (this.o.toFile) this.dmsg('\n');
      this.dmsg('Valgrind options:\n' + (this.o.toolArgs ?? []).map((a) => `   ${a}\n`).join(''));
    }
  }

  /** Print one error as Valgrind's pp_Error does in text mode, then its suppression when
   * --gen-suppressions asks for it. */
  error(rec: ErrorRecord): void {
    if (this.xml) return;
    if (isValueError(rec)) this.anyValueErrors = true;
    if (this.o.errorMarkers?.begin !== undefined) this.umsg(this.o.errorMarkers.begin + '\n');
    // Memcheck names the thread when it differs from the last one named.
    if (rec.tid > 0 && rec.tid !== this.lastTidPrinted) {
      this.umsg(rec.threadName !== undefined ? `Thread ${rec.tid} ${rec.threadName}:\n` : `Thread ${rec.tid}:\n`);
      this.lastTidPrinted = rec.tid;
    }
    this.umsg(errorText(rec, this.o) + '\n');
    if (this.o.errorMarkers?.end !== undefined) this.umsg(this.o.errorMarkers.end + '\n');
    const gen = this.o.genSuppressions ?? 'no';
    if (gen !== 'no') {
      const supp = generateSuppression(rec, { showBelowMain: this.o.showBelowMain });
      if (supp !== undefined) this.o.sink.write(supp);
      else this.umsg('(Memcheck does not allow error to be suppressed)\n');
    }
  }

  /** The message printed when a collection limit is reached. */
  limit(which: LimitEvent, threshold?: number): void {
    if (this.xml) return;
    if (which === 'slowdown') {
      this.umsg(`\nMore than ${threshold ?? COLLECT_ERRORS_SLOWLY_AFTER} errors detected.  Subsequent errors\n`
        + 'will still be recorded, but in less detail than before.\n');
      return;
    }
    const first = which === 'stop-shown'
      ? `More than ${threshold ?? COLLECT_NO_ERRORS_AFTER_SHOWN} different errors detected.  I'm not reporting any more.`
      : `More than ${threshold ?? COLLECT_NO_ERRORS_AFTER_FOUND} total errors detected.  I'm not reporting any more.`;
    this.umsg(`\n${first}\nFinal error counts will be inaccurate.  Go fix your program!\n`
      + 'Rerun with --error-limit=no to disable this cutoff.  Note\n'
      + 'that errors may occur in your program without prior warning from\n'
      + 'Valgrind, because errors are no longer being displayed.\n\n');
  }

  /** "Process terminating with default action of signal N (SIG…)" and its details. */
  fatalSignal(sig: FatalSignalInfo): void {
    // In XML mode the signal itself goes to the XML, but the stack-size hint still goes here.
    if (this.xml) {
      if (sig.mainStackSize !== undefined) this.umsg(stackSizeHint(sig.mainStackSize));
      return;
    }
    // Even with -q Valgrind reports a kernel-sent signal whose default action dumps core.
    if (this.verbosity < 1 && !(dumpsCoreByDefault(sig.signo) && sig.sicode > 0)) return;
    let text = `\nProcess terminating with default action of signal ${sig.signo} (${sig.signame})${sig.core ? ': dumping core' : ''}\n`;
    if (sig.event !== undefined) {
      text += sig.address !== undefined ? ` ${sig.event} at address ${hexLower(sig.address)}\n` : ` ${sig.event}\n`;
    }
    const frames = printedFrames(sig.stack, this.o.showBelowMain);
    if (frames.length > 0) text += stackTextLines(frames, this.o).join('\n') + '\n';
    if (sig.mainStackSize !== undefined) text += stackSizeHint(sig.mainStackSize);
    this.umsg(text);
  }

  /** "Exit program on first error (--exit-on-first-error=yes)". */
  exitOnFirstError(): void {
    this.umsg('\nExit program on first error (--exit-on-first-error=yes)\n');
  }

  /** The empty line that starts Valgrind's end-of-run output. */
  beginEnd(): void {
    if (!this.xml && this.verbosity > 0) this.umsg('\n');
  }

  /** HEAP SUMMARY (memcheck, not at -q, not in XML mode). */
  heapSummary(h: HeapSummary): void {
    if (this.xml || this.verbosity === 0) return;
    this.umsg('HEAP SUMMARY:\n'
      + `    in use at exit: ${withCommas(h.inUseBytes)} bytes in ${withCommas(h.inUseBlocks)} blocks\n`
      + `  total heap usage: ${withCommas(h.allocs)} allocs, ${withCommas(h.frees)} frees, ${withCommas(h.bytesAllocated)} bytes allocated\n`
      + '\n');
  }

  /** The leak check found no block in use at all. */
  allHeapBlocksFreed(): void {
    if (this.xml || this.verbosity < 1) return;
    this.umsg('All heap blocks were freed -- no leaks are possible\n\n');
  }

  /** --leak-check=no: the hint that replaces the leak summary. */
  leakCheckOff(): void {
    if (this.xml || this.verbosity !== 1) return;
    this.umsg('For a detailed leak analysis, rerun with: --leak-check=full\n\n');
  }

  /** LEAK SUMMARY and the hint lines that follow it. */
  leakSummary(s: LeakSummary, params: LeakCheckParams): void {
    if (this.xml || this.verbosity < 1) return;
    // A delta search (s.previous set) follows every figure with its change.
    const p = s.previous;
    const figures = (t: { bytes: number; blocks: number }, o: { bytes: number; blocks: number } | undefined) =>
      `${withDelta(t.bytes, o?.bytes)} bytes in ${withDelta(t.blocks, o?.blocks)} blocks\n`;
    const line = (label: string, k: 'definite' | 'indirect' | 'possible' | 'reachable' | 'suppressed') => `${label}: ${figures(s[k], p?.[k])}`;
    let text = 'LEAK SUMMARY:\n'
      + line('   definitely lost', 'definite')
      + line('   indirectly lost', 'indirect')
      + line('     possibly lost', 'possible')
      + line('   still reachable', 'reachable');
    if (s.heuristics.length > 0) {
      text += '                      of which reachable via heuristic:\n';
      for (const h of s.heuristics) {
        const o = p && (p.heuristics.find((x) => x.name === h.name) ?? { bytes: 0, blocks: 0 });
        text += `                        ${h.name.padEnd(19)}: ${figures(h, o)}`;
      }
    }
    text += line('        suppressed', 'suppressed');
    const unsuppressedBlocks = s.definite.blocks + s.indirect.blocks + s.possible.blocks + s.reachable.blocks;
    if (params.mode !== 'full' && unsuppressedBlocks > 0) text += 'Rerun with --leak-check=full to see details of leaked memory\n';
    if (params.mode === 'full' && s.reachable.blocks > 0 && !params.showKinds.has('reachable')) {
      text += 'Reachable blocks (those to which a pointer was found) are not shown.\n'
        + 'To see them, rerun with: --leak-check=full --show-leak-kinds=all\n';
    }
    this.umsg(text + '\n');
  }

  /**
   * The end of the log: the origins hint, the "-s" hint, ERROR SUMMARY, and with -s/-v the list
   * of error contexts, the used suppressions and ERROR SUMMARY again.
   */
  finish(manager: ErrorManager): void {
    if (this.xml) return;
    const tool = this.o.tool ?? 'memcheck';
    if (tool === 'memcheck' && this.anyValueErrors && this.verbosity >= 1
        && !(this.o.trackOrigins ?? false) && (this.o.undefValueErrors ?? true)) {
      this.umsg('Use --track-origins=yes to see where uninitialised values come from\n');
    }
    if (tool === 'none') return;
    if (this.verbosity === 1 && !this.showErrorList) this.umsg('For lists of detected and suppressed errors, rerun with: -s\n');
    if (this.verbosity === 0 && !this.showErrorList) return;
    const summary = () => {
      const c = manager.counts();
      this.umsg(`ERROR SUMMARY: ${c.errors} errors from ${c.contexts} contexts (suppressed: ${c.suppressed} from ${c.suppressedContexts})\n`);
    };
    summary();
    if (!this.showErrorList) return;

    const total = manager.counts().contexts;
    const listed = manager.contextsForListing();
    listed.forEach((ctx: ErrorContext, i: number) => {
      this.umsg(`\n${ctx.count} errors in context ${i + 1} of ${total}:\n`);
      this.error(ctx.record);
    });
    const used = manager.usedSuppressions();
    if (used.length > 0) {
      this.dmsg('\n');
      for (const u of used) {
        const leak = u.leak && u.leak.search === manager.currentLeakSearch && u.leak.blocks > 0
          ? ` suppressed: ${withCommas(u.leak.bytes)} bytes in ${withCommas(u.leak.blocks)} blocks` : '';
        this.dmsg(`used_suppression: ${String(u.count).padStart(6)} ${u.suppression.name} ${u.suppression.file}:${u.suppression.line}${leak}\n`);
      }
      this.umsg('\n');
    }
    if (used.length > 0 || listed.length > 0) summary();
  }
}

/** Signals whose default action is to dump core (Linux numbering). */
function dumpsCoreByDefault(signo: number): boolean {
  // SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS.
  return [3, 4, 5, 6, 7, 8, 11, 24, 25, 31].includes(signo);
}

/** The advice Valgrind adds to a SIGSEGV for an unmapped address. */
function stackSizeHint(mainStackSize: number): string {
  return " If you believe this happened as a result of a stack\n overflow in your program's main thread (unlikely but\n"
    + ' possible), you can try to increase the size of the\n main thread stack using the --main-stacksize= flag.\n'
    + ` The main thread stack size used in this run was ${mainStackSize}.\n`;
}

/** Errors after which memcheck hints at --track-origins (its `any_value_errors`): those about
 * undefined values, whose origin that option would show. */
export function isValueError(rec: ErrorRecord): boolean {
  switch (rec.kind) {
    case 'UninitValue':
    case 'UninitCondition': return true;
    case 'SyscallParam': return rec.syscallParam?.where === 'register' || rec.syscallParam?.unaddressable === false;
    case 'ClientCheck': return rec.unaddressable === false;
    default: return false;
  }
}

/** The text body of an error (without prefixes or the trailing empty line): primary line,
 * stack, auxiliary lines each with their stacks. */
export function errorText(rec: Pick<ErrorRecord, 'what' | 'stack' | 'aux'>, options: { showBelowMain?: boolean; fullpathAfter?: readonly string[] } = {}): string {
  const lines: string[] = [rec.what];
  lines.push(...stackTextLines(printedFrames(rec.stack, options.showBelowMain), options));
  for (const a of rec.aux) {
    lines.push(' ' + a.text);
    if (a.stack && a.stack.length > 0) lines.push(...stackTextLines(printedFrames(a.stack, options.showBelowMain), options));
  }
  return lines.join('\n') + '\n';
}
