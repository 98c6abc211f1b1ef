/**
 * The end of a run in Valgrind's order, for whichever writers are attached: the empty line and
 * FINISHED status, HEAP SUMMARY, the leak search (loss records are published through the error
 * manager and so printed by every subscriber), LEAK SUMMARY or its replacements, and the closing
 * summaries.
 */
import type { LeakState } from '../errors/error-record';
import type { ErrorManager } from '../errors/error-manager';
import type { LeakCheckParams, LeakSummary, LossRecordInput } from '../errors/leak-report';
import { DEFAULT_LEAK_KINDS, reportLossRecords } from '../errors/leak-report';
import type { HeapSummary } from './events';
import type { TextWriter } from './text-writer';
import type { XmlWriter } from './xml-writer';

/** What the end of a run needs. */
export interface EndOfRunInput {
  manager: ErrorManager;
  text?: TextWriter;
  xml?: XmlWriter;
  /** memcheck prints heap and leak reports; none prints only the closing lines. */
  tool?: 'memcheck' | 'none';
  heap?: HeapSummary;
  /** --leak-check (default summary; XML mode forces full, as Memcheck does). */
  leakCheck?: 'no' | 'summary' | 'full';
  showLeakKinds?: ReadonlySet<LeakState>;
  errorsForLeakKinds?: ReadonlySet<LeakState>;
  /** The leak checker's loss records (empty when no block is in use). */
  lossRecords?: readonly LossRecordInput[];
  heuristics?: LeakSummary['heuristics'];
}

/** What one leak search reports (at exit, or asked for by the guest mid-run). */
export interface LeakSearchReport {
  manager: ErrorManager;
  text?: TextWriter;
  params: LeakCheckParams;
  /** The loss records (empty when no block is in use). */
  records: readonly LossRecordInput[];
  heuristics?: LeakSummary['heuristics'];
  /** The previous search's summary: the baseline of a delta search. */
  previous?: LeakSummary;
}

/**
 * One leak search's output: the loss records (through the manager, so every writer shows them)
 * and the text LEAK SUMMARY, or "All heap blocks were freed" when nothing is in use. Returns the
 * summary, undefined when nothing was in use.
 */
export function reportLeakSearch(r: LeakSearchReport): LeakSummary | undefined {
  if (r.records.length === 0) {
    r.manager.beginLeakSearch();
    r.text?.allHeapBlocksFreed();
    return undefined;
  }
  const summary = reportLossRecords(r.manager, r.records, r.params, r.heuristics ?? [], 1, r.previous);
  r.text?.leakSummary(summary, r.params);
  return summary;
}

/** Produce the end-of-run output; returns the leak summary when a leak search ran. */
export function reportEndOfRun(input: EndOfRunInput): LeakSummary | undefined {
  const { manager, text, xml } = input;
  text?.beginEnd();
  xml?.finished();
  let summary: LeakSummary | undefined;
  if ((input.tool ?? 'memcheck') === 'memcheck') {
    if (input.heap) text?.heapSummary(input.heap);
    const mode = xml ? 'full' : input.leakCheck ?? 'summary';
    if (mode === 'no') {
      text?.leakCheckOff();
    } else {
      summary = reportLeakSearch({
        manager, text, records: input.lossRecords ?? [], heuristics: input.heuristics,
        params: { mode, showKinds: input.showLeakKinds ?? DEFAULT_LEAK_KINDS, errorsForKinds: input.errorsForLeakKinds ?? DEFAULT_LEAK_KINDS },
      });
    }
  }
  text?.finish(manager);
  xml?.close();
  return summary;
}
