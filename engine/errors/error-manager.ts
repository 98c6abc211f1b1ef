/**
 * The one error manager (Valgrind's `m_errormgr.c` with memcheck's equality rules): every detected
 * error comes here; it is deduplicated against the known contexts, matched against suppressions,
 * counted, and published to subscribers (text and XML writers, debug adapter, language server).
 *
 * Valgrind's observable orderings are kept: contexts live in a most-recent-first list where a
 * repeated error moves to the front (this decides `<errorcounts>` order and the `-s` listing),
 * and suppressions live in a list where a matching one moves to the front (the order of
 * `used_suppression` lines and `<suppcounts>`).
 */
import type { ErrorRecord } from './error-record';
import { leakStateOf } from './error-record';
import { stackIps } from './stack';
import type { Suppression } from './suppressions';
import { suppressionMatches } from './suppressions';

/** After this many shown errors, stacks are compared on 2 frames instead of 4. */
export const COLLECT_ERRORS_SLOWLY_AFTER = 100;
/** After this many shown errors, no more are collected (unless --error-limit=no). */
export const COLLECT_NO_ERRORS_AFTER_SHOWN = 1000;
/** After this many errors in total, no more are collected (unless --error-limit=no). */
export const COLLECT_NO_ERRORS_AFTER_FOUND = 10_000_000;

/** One distinct error (a "context"): the first record seen, its id and how often it occurred. */
export interface ErrorContext {
  /** Valgrind's `<unique>`: a counter over every error constructed, suppressed ones included. */
  readonly unique: number;
  readonly record: ErrorRecord;
  count: number;
  /** The suppression that matched it, if any. */
  readonly suppression?: Suppression;
}

/** Per-suppression usage, as `used_suppression` and `<suppcounts>` report it. */
export interface SuppressionUse {
  readonly suppression: Suppression;
  count: number;
  /** For leak suppressions: bytes (direct + indirect) and blocks suppressed in the latest leak
   * search, or undefined when it suppressed nothing in that search. */
  leak?: { bytes: number; blocks: number; search: number };
}

/** Totals for the ERROR SUMMARY line. */
export interface ErrorCounts {
  /** Unsuppressed errors (occurrences). */
  errors: number;
  /** Unsuppressed contexts. */
  contexts: number;
  suppressed: number;
  suppressedContexts: number;
  /** Errors shown so far (the limit counts these). */
  shown: number;
}

/** Which error-collection limit was reached. */
export type LimitEvent = 'slowdown' | 'stop-shown' | 'stop-found';

/** Events and their listener signatures. */
export interface ErrorManagerEvents {
  /** An unsuppressed occurrence. isNew: a new context that is being shown now; false: a repeat,
   * which is only counted. */
  error: (ctx: ErrorContext, isNew: boolean) => void;
  /** A suppressed occurrence (isNew for the first occurrence of its context). */
  suppressed: (ctx: ErrorContext, use: SuppressionUse, isNew: boolean) => void;
  /** A collection limit was reached (published once per kind), with the limit's value. */
  limit: (which: LimitEvent, threshold: number) => void;
}

/** Options of the manager. */
export interface ErrorManagerOptions {
  /** --error-limit (default yes). Forced off in XML mode, as Valgrind does. */
  errorLimit?: boolean;
  /** --xml=yes: no limits and no low-resolution comparison. */
  xml?: boolean;
  /** --show-below-main, which changes how below-main frames match suppressions. */
  showBelowMain?: boolean;
  /** Suppressions in the order they were read (default file first). */
  suppressions?: Suppression[];
  /** Collection limits; Valgrind's values by default (tests lower them). */
  limits?: Partial<ErrorLimits>;
}

/** The thresholds of error collection. */
export interface ErrorLimits {
  /** Shown errors after which stacks are compared on 2 frames instead of 4. */
  slowAfter: number;
  /** Shown errors after which nothing more is collected. */
  maxShown: number;
  /** Errors in total after which nothing more is collected. */
  maxFound: number;
}

/** What report() did with an error. */
export interface ReportOutcome {
  /** The context it was counted in; undefined when a limit dropped it. */
  context?: ErrorContext;
  isNew: boolean;
  suppressed: boolean;
}

/** Internal equality tag: Valgrind's error kinds before they are split for XML (reads and writes
 * are one kind; register and memory syscall params are two). */
function tagOf(rec: ErrorRecord): string {
  switch (rec.kind) {
    case 'InvalidRead':
    case 'InvalidWrite': return 'Addr';
    case 'SyscallParam': return rec.syscallParam?.where === 'register' ? 'RegParam' : 'MemParam';
    default: return rec.kind;
  }
}

/** Memcheck's extra equality conditions, once kind and stack agree. */
function sameDetails(a: ErrorRecord, b: ErrorRecord): boolean {
  switch (tagOf(a)) {
    case 'CoreMemError': return a.coreMem === b.coreMem;
    case 'RegParam': return a.syscallParam?.name === b.syscallParam?.name;
    case 'MemParam':
      return a.syscallParam?.name === b.syscallParam?.name
        && (a.syscallParam?.unaddressable ?? false) === (b.syscallParam?.unaddressable ?? false);
    case 'ClientCheck': return (a.unaddressable ?? false) === (b.unaddressable ?? false);
    case 'FishyValue': return a.fishy?.fn === b.fishy?.fn && a.fishy?.arg === b.fishy?.arg;
    case 'Addr':
    case 'UninitValue': return a.size === b.size;
    case 'InvalidSizeAndAlignment':
    case 'InvalidAlignment':
    case 'MismatchedAllocateDeallocateSize':
    case 'MismatchedAllocateDeallocateAlignment':
      // Newer kinds compare their numbers, which live in the text.
      return a.what === b.what;
    default: return true;
  }
}

/** Stack equality at Valgrind's resolutions: the first `depth` addresses (both shorter: equal).
 * Valgrind also requires the same debug-info epoch; unigrind has no epochs (code unloaded and
 * reloaded at the same address compares equal). */
function sameStack(a: number[], b: number[], depth: number): boolean {
  for (let i = 0; i < depth; i++) {
    const aDone = a.length <= i;
    const bDone = b.length <= i;
    if (aDone && bDone) return true;
    if (aDone !== bDone) return false;
    if (a[i] !== b[i]) return false;
  }
  return true;
}

interface Entry { ctx: ErrorContext; ips: number[]; tag: string }

type Listeners = { [K in keyof ErrorManagerEvents]: ErrorManagerEvents[K][] };

/** The error manager. */
export class ErrorManager {
  private readonly errorLimit: boolean;
  private readonly xml: boolean;
  private readonly showBelowMain: boolean;
  private readonly limits: ErrorLimits;
  /** Contexts, most recent (or most recently repeated) first. */
  private entries: Entry[] = [];
  /** Suppressions, most recently matched first; initially the last one read first. */
  private supps: SuppressionUse[] = [];
  private nextUnique = 0;
  private nErrsFound = 0;
  private nErrsSuppressed = 0;
  private nErrsShown = 0;
  private nErrContexts = 0;
  private nSuppContexts = 0;
  private stopped = false;
  private slowed = false;
  private leakSearch = 0;
  private readonly listeners: Listeners = { error: [], suppressed: [], limit: [] };

  constructor(options: ErrorManagerOptions = {}) {
    this.xml = options.xml ?? false;
    this.errorLimit = this.xml ? false : options.errorLimit ?? true;
    this.showBelowMain = options.showBelowMain ?? false;
    this.limits = {
      slowAfter: options.limits?.slowAfter ?? COLLECT_ERRORS_SLOWLY_AFTER,
      maxShown: options.limits?.maxShown ?? COLLECT_NO_ERRORS_AFTER_SHOWN,
      maxFound: options.limits?.maxFound ?? COLLECT_NO_ERRORS_AFTER_FOUND,
    };
    this.addSuppressions(options.suppressions ?? []);
  }

  /** Add suppressions (in file order). Like Valgrind, later ones are tried first. */
  addSuppressions(list: readonly Suppression[]): void {
    for (const s of list) this.supps.unshift({ suppression: s, count: 0 });
  }

  /** Subscribe to an event; returns a function that unsubscribes. */
  on<K extends keyof ErrorManagerEvents>(event: K, listener: ErrorManagerEvents[K]): () => void {
    const list = this.listeners[event] as ErrorManagerEvents[K][];
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private emit<K extends keyof ErrorManagerEvents>(event: K, ...args: Parameters<ErrorManagerEvents[K]>): void {
    for (const l of [...this.listeners[event]]) (l as (...a: Parameters<ErrorManagerEvents[K]>) => void)(...args);
  }

  /**
   * Record an error (Valgrind's `maybe_record_error`): dedupe, suppress, count, publish.
   * Leak records must go through reportUnique instead.
   */
  report(rec: ErrorRecord): ReportOutcome {
    if (leakStateOf(rec.kind) !== undefined) throw new Error('leak records go through reportUnique()');
    const lim = this.limits;
    if (this.errorLimit && (this.nErrsShown >= lim.maxShown || this.nErrsFound >= lim.maxFound)) {
      if (!this.stopped) {
        this.stopped = true;
        if (this.nErrsShown >= lim.maxShown) this.emit('limit', 'stop-shown', lim.maxShown);
        else this.emit('limit', 'stop-found', lim.maxFound);
      }
      return { isNew: false, suppressed: false };
    }
    let depth = 4;
    if (this.nErrsShown >= lim.slowAfter && !this.xml) {
      depth = 2;
      if (!this.slowed) {
        this.slowed = true;
        this.emit('limit', 'slowdown', lim.slowAfter);
      }
    }

    const unique = this.nextUnique++;
    const ips = stackIps(rec.stack);
    const tag = tagOf(rec);
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.tag !== tag || !sameStack(e.ips, ips, depth) || !sameDetails(e.ctx.record, rec)) continue;
      e.ctx.count++;
      // Move to the front, as Valgrind does (it also makes "the last error" the first one).
      if (i > 0) { this.entries.splice(i, 1); this.entries.unshift(e); }
      if (e.ctx.suppression) {
        const use = this.useOf(e.ctx.suppression);
        use.count++;
        this.nErrsSuppressed++;
        this.emit('suppressed', e.ctx, use, false);
        return { context: e.ctx, isNew: false, suppressed: true };
      }
      this.nErrsFound++;
      this.emit('error', e.ctx, false);
      return { context: e.ctx, isNew: false, suppressed: false };
    }

    const use = this.findSuppression(rec);
    const ctx: ErrorContext = use ? { unique, record: rec, count: 1, suppression: use.suppression } : { unique, record: rec, count: 1 };
    this.entries.unshift({ ctx, ips, tag });
    if (use) {
      this.nSuppContexts++;
      this.nErrsSuppressed++;
      use.count++;
      this.emit('suppressed', ctx, use, true);
      return { context: ctx, isNew: true, suppressed: true };
    }
    this.nErrContexts++;
    this.nErrsFound++;
    this.nErrsShown++;
    this.emit('error', ctx, true);
    return { context: ctx, isNew: true, suppressed: false };
  }

  /**
   * Record an error that is never merged with others (Valgrind's `unique_error`, used for leak
   * loss records). `print`: show it when unsuppressed; `count`: count it in the ERROR SUMMARY.
   * Returns whether a suppression matched it. The error consumes a `<unique>` id either way.
   */
  reportUnique(rec: ErrorRecord, options: { print: boolean; count: boolean }): { suppressed: boolean; context: ErrorContext } {
    const unique = this.nextUnique++;
    const use = this.findSuppression(rec);
    if (use) {
      const ctx: ErrorContext = { unique, record: rec, count: 1, suppression: use.suppression };
      if (options.count) { this.nErrsSuppressed++; this.nSuppContexts++; }
      use.count++;
      if (rec.leak) {
        if (!use.leak || use.leak.search !== this.leakSearch) use.leak = { bytes: 0, blocks: 0, search: this.leakSearch };
        use.leak.bytes += rec.leak.bytes + rec.leak.indirectBytes;
        use.leak.blocks += rec.leak.blocks;
      }
      this.emit('suppressed', ctx, use, true);
      return { suppressed: true, context: ctx };
    }
    const ctx: ErrorContext = { unique, record: rec, count: 1 };
    if (options.count) { this.nErrsFound++; this.nErrContexts++; }
    if (options.print) {
      this.nErrsShown++;
      this.emit('error', ctx, true);
    }
    return { suppressed: false, context: ctx };
  }

  /** Start a new leak search: per-suppression leak byte/block figures restart from zero. */
  beginLeakSearch(): void {
    this.leakSearch++;
  }

  /** The number of the current leak search (0 before the first). */
  get currentLeakSearch(): number {
    return this.leakSearch;
  }

  private useOf(s: Suppression): SuppressionUse {
    const use = this.supps.find((u) => u.suppression === s);
    if (!use) throw new Error(`suppression ${s.name} is not known to this manager`);
    return use;
  }

  private findSuppression(rec: ErrorRecord): SuppressionUse | undefined {
    for (let i = 0; i < this.supps.length; i++) {
      const use = this.supps[i];
      if (!suppressionMatches(use.suppression, rec, { showBelowMain: this.showBelowMain })) continue;
      if (i > 0) { this.supps.splice(i, 1); this.supps.unshift(use); }
      return use;
    }
    return undefined;
  }

  /** Totals for ERROR SUMMARY. */
  counts(): ErrorCounts {
    return {
      errors: this.nErrsFound,
      contexts: this.nErrContexts,
      suppressed: this.nErrsSuppressed,
      suppressedContexts: this.nSuppContexts,
      shown: this.nErrsShown,
    };
  }

  /** All contexts (suppressed ones included), in Valgrind's list order: most recent first. */
  contexts(): ErrorContext[] {
    return this.entries.map((e) => e.ctx);
  }

  /** Unsuppressed contexts in the order of the `-s` listing: ascending count; among equal counts,
   * the one nearer the front of the list first. */
  contextsForListing(): ErrorContext[] {
    const shown = this.entries.map((e) => e.ctx).filter((c) => !c.suppression);
    // A stable sort on count keeps list order among equal counts, as Valgrind's selection does.
    return shown.map((c, i) => ({ c, i })).sort((a, b) => a.c.count - b.c.count || a.i - b.i).map((x) => x.c);
  }

  /** Suppressions that matched at least once, in Valgrind's list order. */
  usedSuppressions(): SuppressionUse[] {
    return this.supps.filter((u) => u.count > 0);
  }

  /** The most recent error context (`v.info last_error`), unsuppressed only. */
  lastError(): ErrorContext | undefined {
    return this.entries.find((e) => !e.ctx.suppression)?.ctx;
  }
}
