/**
 * Valgrind XML files (protocols 4, 5 and 6, from Valgrind or unigrind) as findings. The engine's
 * reader (engine/report/xml-reader.ts) does the reading — unknown elements ignored, a document
 * still being written read as far as it goes — and this module turns its errors into protocol
 * records, in document order, newer kinds included: the editor shows what it cannot interpret.
 */
import { elements, parseXmlTree } from '../engine/report/xml-tree';
import { readValgrindXml, type ValgrindXmlDocument } from '../engine/report/xml-reader';
import { protocolRecordOf } from './engine-records';
import type { ErrorRecord } from './protocol';

/** What the editor takes from one XML document. */
export interface ValgrindRun {
  /** The document as the engine read it: header, client argv, fatal signals, summaries. */
  document: ValgrindXmlDocument;
  /** Every complete error in document order (an error the document ends inside is left out
   * until the file is written further), with its `<errorcounts>` count. */
  errors: ErrorRecord[];
  /** 1-based line of each error's `<error>` tag, parallel to `errors`. */
  errorLines: number[];
}

/** True when `head` (the first bytes of a file) opens a `<valgrindoutput>` document. */
export function isValgrindXml(head: string): boolean {
  // The prolog (declaration, comments, doctype) leaves no element before the root.
  return elements(parseXmlTree(head))[0]?.name === 'valgrindoutput';
}

/** Read a Valgrind XML document; throws when it is not one. */
export function parseValgrindXml(text: string): ValgrindRun {
  // The root is known from the head; the whole text is parsed once, by the reader.
  if (!isValgrindXml(text.slice(0, 4096))) throw new Error('not a Valgrind XML document (<valgrindoutput> root expected)');
  const document = readValgrindXml(text);
  const counts = new Map(document.errorCounts.map((c) => [c.unique, c.count]));
  const run: ValgrindRun = { document, errors: [], errorLines: [] };
  for (const ev of document.events) {
    if (ev.type !== 'error' && ev.type !== 'unknown-error') continue;
    if (!ev.error.complete) continue;
    run.errors.push(protocolRecordOf(ev.error, counts.get(ev.error.unique) ?? 1));
    run.errorLines.push(ev.error.line);
  }
  return run;
}
