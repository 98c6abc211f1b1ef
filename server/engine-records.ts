/**
 * The bridge between the protocol's `ErrorRecord` — the wire shape the adapter, the extension and
 * the server share (protocol.ts) — and the engine's error records, so that the server reads XML,
 * renders Valgrind's text and derives and matches suppressions with the engine's own code
 * (engine/report, engine/errors) instead of copies of it.
 *
 * Going to the protocol is lossless for what the editor shows. Coming back, the engine's
 * kind-specific facts (access size, syscall parameter, leak numbers…) are recovered from the
 * `what` text as the engine's XML reader does; kinds the engine does not know (a newer
 * Valgrind's, or the server's synthetic fatal-signal kind) get frames and auxiliary lines only.
 */
import type { AuxItem, ErrorFrame, ErrorKind, ErrorRecord as EngineRecord } from '../engine/errors/error-record';
import { ERROR_KINDS, leakedBytes } from '../engine/errors/error-record';
import { completeFromWhat } from '../engine/errors/records';
import { auxRole, type ReadError, type ReadSuppression, type UnknownKindError } from '../engine/report/xml-reader';
import { funPattern, isDemangledCxx } from './cxx-names';
import type { AuxInfo, ErrorRecord, ValgrindFrame } from './protocol';

/** The fields of Valgrind's `<frame>` that protocol and engine frames both have, all optional. */
type SharedFrame = Pick<ValgrindFrame, 'obj' | 'fn' | 'dir' | 'file' | 'line'>;

/** Copy the shared fields that are set (absent ones stay absent, not `undefined`). */
function copyShared<T extends SharedFrame>(from: SharedFrame, to: T): T {
  for (const k of ['obj', 'fn', 'dir', 'file'] as const) {
    const v = from[k];
    if (v !== undefined) to[k] = v;
  }
  if (from.line !== undefined) to.line = from.line;
  return to;
}

// ---- engine → protocol ----

/** A frame as the protocol carries it (the engine's extras — raw name, inlining — dropped). */
export function protocolFrame(f: ErrorFrame): ValgrindFrame {
  return copyShared<ValgrindFrame>(f, { ip: f.ip });
}

function protocolAux(a: AuxItem): AuxInfo {
  const out: AuxInfo = { text: a.text };
  if (a.stack) out.stack = a.stack.map(protocolFrame);
  if (a.source?.dir !== undefined) out.dir = a.source.dir;
  if (a.source?.file !== undefined) out.file = a.source.file;
  if (a.source?.line !== undefined) out.line = a.source.line;
  return out;
}

/** Fields of an engine record the protocol carries; kinds the engine does not know included. */
export type ProtocolSource = Pick<EngineRecord, 'what' | 'stack' | 'aux' | 'tid' | 'threadName' | 'leak' | 'fd'> & { kind: string };

/**
 * An engine record as the protocol carries it — what the XML reader read, or what a running
 * program just reported.
 * @param unique the error's id in its run
 * @param count how often it occurred (`<errorcounts>`)
 * @param suppression the one Valgrind generated for it (an XML `<suppression>`, or the engine's
 *   generateSuppressionParts for a live record)
 */
export function protocolRecord(rec: ProtocolSource, unique: number, count: number, suppression?: Pick<ReadSuppression, 'kind' | 'extra' | 'frames'>): ErrorRecord {
  const out: ErrorRecord = {
    unique, tid: rec.tid, kind: rec.kind, what: rec.what, count,
    stack: rec.stack.map(protocolFrame), aux: rec.aux.map(protocolAux),
  };
  if (rec.threadName !== undefined) out.threadName = rec.threadName;
  if (rec.leak) {
    out.leakedBytes = leakedBytes(rec.leak);
    out.leakedBlocks = rec.leak.blocks;
  }
  if (rec.fd) {
    out.fd = rec.fd.fd;
    if (rec.fd.path !== undefined) out.path = rec.fd.path;
  }
  if (suppression) {
    out.suppression = {
      kind: suppression.kind,
      extra: suppression.extra !== undefined && suppression.extra !== '' ? [suppression.extra] : [],
      frames: suppression.frames.map((f) => ('fun' in f ? `fun:${f.fun}` : `obj:${f.obj}`)),
    };
  }
  return out;
}

/** An error of an XML document, known kind or not, as a protocol record. */
export function protocolRecordOf(read: ReadError | UnknownKindError, count: number): ErrorRecord {
  return 'record' in read ? protocolRecord(read.record, read.unique, count, read.suppression) : protocolRecord(read, read.unique, count);
}

// ---- protocol → engine ----

/** A protocol record seen by the engine: what any error has, and the full record for kinds the
 * engine knows. */
export interface EngineView extends Pick<EngineRecord, 'what' | 'stack' | 'aux'> {
  record?: EngineRecord;
}

/** Records are immutable once stored (a live update replaces the object), so views are cached. */
const views = new WeakMap<ErrorRecord, EngineView>();

/** The engine's view of a protocol record (computed once per record). */
export function engineView(rec: ErrorRecord): EngineView {
  let view = views.get(rec);
  if (!view) views.set(rec, (view = computeView(rec)));
  return view;
}

function computeView(rec: ErrorRecord): EngineView {
  // Valgrind's generated suppression names the same frames, in order, by their raw names.
  const generated = rec.suppression && rec.suppression.frames.length === rec.stack.length ? rec.suppression.frames : undefined;
  const stack = rec.stack.map((f, i) => engineFrame(f, generated?.[i]));
  const aux = rec.aux.map((a): AuxItem => {
    const item: AuxItem = { text: a.text, role: auxRole(a.text) };
    if (a.stack) item.stack = a.stack.map((f) => engineFrame(f, undefined));
    if (a.dir !== undefined || a.file !== undefined || a.line !== undefined) {
      const source: NonNullable<AuxItem['source']> = {};
      if (a.dir !== undefined) source.dir = a.dir;
      if (a.file !== undefined) source.file = a.file;
      if (a.line !== undefined) source.line = a.line;
      item.source = source;
    }
    return item;
  });
  const view: EngineView = { what: rec.what, stack, aux };
  if ((ERROR_KINDS as readonly string[]).includes(rec.kind)) {
    const record: EngineRecord = { kind: rec.kind as ErrorKind, what: rec.what, stack, aux, tid: rec.tid ?? 1 };
    if (rec.threadName !== undefined) record.threadName = rec.threadName;
    if (rec.fd !== undefined) record.fd = rec.path !== undefined ? { fd: rec.fd, path: rec.path } : { fd: rec.fd };
    completeFromWhat(record);
    // The plain block count is exact where the text may have been cut (as the engine's reader does).
    if (record.leak && rec.leakedBlocks !== undefined) record.leak.blocks = rec.leakedBlocks;
    view.record = record;
  }
  return view;
}

/**
 * A protocol frame as an engine frame. Its raw name — what suppressions are generated from and
 * matched against, as Valgrind does with mangled names — is Valgrind's own generated `fun:` line
 * when the XML carried one; otherwise a demangled C++ name stands for its mangled one through the
 * Itanium pattern of cxx-names.ts (which a suppression written from it matches, and so does the
 * real mangled name), and a C name is its own raw name.
 */
function engineFrame(f: ValgrindFrame, generatedLine: string | undefined): ErrorFrame {
  const out = copyShared<ErrorFrame>(f, { ip: f.ip ?? 0 });
  if (f.fn !== undefined) {
    if (generatedLine?.startsWith('fun:')) {
      const raw = generatedLine.slice(4);
      if (raw !== f.fn) out.mangled = raw;
    } else if (isDemangledCxx(f.fn)) out.mangled = funPattern(f.fn);
  }
  return out;
}
