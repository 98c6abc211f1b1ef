/**
 * The end of a run in Valgrind's order, for whichever writers are attached: the empty line and
 * FINISHED status, HEAP SUMMARY, the leak search (loss records are published through the error
 * manager and so printed by every subscriber), LEAK SUMMARY or its replacements, and the closing
 * summaries.
 */
import type { LeakState } from '../errors/error-record';
import type { ErrorManager } from '../errors/error-manager';
import type { LeakSummary, LossRecordInput } from '../errors/leak-report';
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
      const records = input.lossRecords ?? [];
      const params = {
        mode,
        showKinds: input.showLeakKinds ?? DEFAULT_LEAK_KINDS,
        errorsForKinds: input.errorsForLeakKinds ?? DEFAULT_LEAK_KINDS,
      } as const;
      if (records.length === 0) {
        manager.beginLeakSearch();
        text?.allHeapBlocksFreed();
      } else {
        summary = reportLossRecords(manager, records, params, input.heuristics ?? []);
        text?.leakSummary(summary, params);
      }
    }
  }
  text?.finish(manager);
  xml?.close();
  return summary;
}
