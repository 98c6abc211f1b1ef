/**
 * Reading Valgrind XML (protocols 4, 5 and 6, any Valgrind tool's header) into error records and
 * run facts. Tolerant as the protocol asks: unknown elements are ignored, unknown error kinds are
 * kept aside, a truncated document yields what it holds, a top-level `<suppression>` may appear
 * between errors, and the 3.19 layout quirks (newline inside `<what>`) are undone.
 */
import type { AuxItem, AuxRole, ErrorFrame, ErrorKind, ErrorRecord } from '../errors/error-record';
import { ERROR_KINDS, leakStateOf } from '../errors/error-record';
import { completeFromWhat } from '../errors/records';
import type { ClientMessage, FatalSignalInfo, HeapSummary } from './events';
import type { XmlElement } from './xml-tree';
import { child, childText, elements, parseXmlTree, textOf } from './xml-tree';

/** A suppression as printed inside or after an error (`<suppression>`). */
export interface ReadSuppression {
  name: string;
  /** "Memcheck:Addr4". */
  kind: string;
  extra?: string;
  frames: ({ fun: string } | { obj: string })[];
  rawText?: string;
}

/** Where an `<error>` stands in the document: what an editor needs to point at it, and whether
 * the document (still being written, or cut short) ended inside it. */
export interface ErrorPlace {
  /** 1-based line of the `<error>` tag. */
  line: number;
  /** False when the document ended before `</error>`: the error may lack its later parts. */
  complete: boolean;
}

/** An error read from the document. */
export interface ReadError extends ErrorPlace {
  unique: number;
  record: ErrorRecord;
  suppression?: ReadSuppression;
  /** True when it came after the FINISHED status (leak errors do). */
  afterFinished: boolean;
}

/**
 * An error whose `<kind>` this reader does not know (a newer Valgrind's, or another tool's): not
 * interpreted, but its parts common to every error are read, so that it can still be shown.
 */
export interface UnknownKindError extends ErrorPlace, Pick<ErrorRecord, 'what' | 'stack' | 'aux' | 'tid' | 'threadName'> {
  unique: number;
  kind: string;
}

/** Top-level items in document order. */
export type ReadEvent =
  | { type: 'status'; state: string; time: string }
  | { type: 'error'; error: ReadError }
  | { type: 'unknown-error'; error: UnknownKindError }
  | { type: 'suppression'; suppression: ReadSuppression }
  | { type: 'fatal_signal'; signal: FatalSignalInfo }
  | { type: 'clientmsg'; message: ClientMessage };

/** Bytes and blocks of a protocol-6 summary line. */
export interface XmlLeakTotals { bytes: number; blocks: number }

/** A parsed Valgrind XML document. */
export interface ValgrindXmlDocument {
  protocolVersion?: number;
  protocolTool?: string;
  preamble: string[];
  pid?: number;
  ppid?: number;
  tool?: string;
  logFileQualifiers: { name: string; value: string }[];
  userComment?: string;
  vargv?: { exe: string; args: string[] };
  argv?: { exe: string; args: string[] };
  status: { state: string; time: string }[];
  errors: ReadError[];
  unknownErrors: UnknownKindError[];
  fatalSignals: FatalSignalInfo[];
  clientMessages: ClientMessage[];
  events: ReadEvent[];
  errorCounts: { unique: number; count: number }[];
  suppCounts: { name: string; count: number }[];
  /** Protocol 6 summaries. */
  heapSummary?: HeapSummary;
  allHeapBlocksFreed?: boolean;
  leakSummary?: {
    definite?: XmlLeakTotals; indirect?: XmlLeakTotals; possible?: XmlLeakTotals;
    reachable?: XmlLeakTotals & { heuristics: { kind: string; bytes: number; blocks: number }[] };
    suppressed?: XmlLeakTotals;
  };
  errorSummary?: { errors: number; contexts: number; suppressed: number; suppressedContexts: number };
  /** True when the closing `</valgrindoutput>` was seen. */
  complete: boolean;
}

/** Numbers as Valgrind prints them: decimal (possibly with thousands separators) or 0x-hex. */
function toNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim().replace(/,/g, '');
  if (t === '') return undefined;
  const v = /^-?0x/i.test(t) ? (t.startsWith('-') ? -parseInt(t.slice(3), 16) : parseInt(t.slice(2), 16)) : Number(t);
  return Number.isFinite(v) ? v : undefined;
}

function parseFrame(el: XmlElement): ErrorFrame {
  const f: ErrorFrame = { ip: toNumber(childText(el, 'ip')) ?? 0 };
  const obj = childText(el, 'obj'); if (obj !== undefined) f.obj = obj;
  const fn = childText(el, 'fn'); if (fn !== undefined) f.fn = fn;
  const dir = childText(el, 'dir'); if (dir !== undefined) f.dir = dir;
  const file = childText(el, 'file'); if (file !== undefined) f.file = file;
  const line = toNumber(childText(el, 'line')); if (line !== undefined) f.line = line;
  return f;
}

/** Frames of a `<stack>` element. */
export function parseStack(el: XmlElement): ErrorFrame[] {
  return elements(el, 'frame').map(parseFrame);
}

function parseSuppression(el: XmlElement): ReadSuppression {
  const s: ReadSuppression = {
    name: childText(el, 'sname') ?? '',
    kind: childText(el, 'skind') ?? '',
    frames: [],
  };
  const aux = childText(el, 'skaux'); if (aux !== undefined) s.extra = aux;
  for (const f of elements(el, 'sframe')) {
    const fun = childText(f, 'fun');
    if (fun !== undefined) s.frames.push({ fun });
    else s.frames.push({ obj: childText(f, 'obj') ?? '*' });
  }
  const raw = child(el, 'rawtext');
  if (raw) {
    // The CDATA section sits between newlines Valgrind adds around it.
    const t = textOf(raw);
    const start = t.indexOf('{');
    const end = t.lastIndexOf('}');
    s.rawText = start >= 0 && end > start ? t.slice(start, end + 1) + '\n' : t.trim();
  }
  return s;
}

/** Guess what an auxiliary line is about from its wording. */
export function auxRole(text: string): AuxRole {
  if (/^Address 0x[0-9a-f]+ is .* free'd$/.test(text)) return 'freed';
  if (text === "Block was alloc'd at") return 'allocated';
  if (text.startsWith('Uninitialised value was created')) return 'origin';
  if (text.startsWith('Address ') || text.startsWith('in frame #') || text.startsWith('Location ')
      || /bytes below stack pointer$/.test(text) || text.startsWith('declared at ')) return 'address';
  return 'other';
}

function stripQuirkNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** Parse one `<error>` element; undefined (with the unknown kind recorded) for unknown kinds. */
function parseError(el: XmlElement, afterFinished: boolean, unknown: UnknownKindError[]): ReadError | undefined {
  const unique = toNumber(childText(el, 'unique')) ?? -1;
  const kindText = (childText(el, 'kind') ?? '').trim();
  const xwhat = child(el, 'xwhat');
  const what = stripQuirkNewline(xwhat ? childText(xwhat, 'text') ?? '' : childText(el, 'what') ?? '');
  const place: ErrorPlace = { line: el.line, complete: el.closed };
  const tid = toNumber(childText(el, 'tid')) ?? 0;
  const threadName = childText(el, 'threadname');
  // Stacks and auxiliary lines interleave: each stack after the first belongs to the line before it.
  const stack: ErrorFrame[] = [];
  const aux: AuxItem[] = [];
  let sawPrimary = false;
  let suppression: ReadSuppression | undefined;
  for (const c of elements(el)) {
    if (c.name === 'stack') {
      const frames = parseStack(c);
      if (!sawPrimary) { stack.push(...frames); sawPrimary = true; continue; }
      const last = aux[aux.length - 1];
      if (last && !last.stack) last.stack = frames;
      else aux.push({ text: '', stack: frames, role: 'other' });
    } else if (c.name === 'auxwhat') {
      const text = textOf(c);
      aux.push({ text, role: auxRole(text) });
    } else if (c.name === 'xauxwhat') {
      const text = childText(c, 'text') ?? '';
      const source: NonNullable<AuxItem['source']> = {};
      const file = childText(c, 'file'); if (file !== undefined) source.file = file;
      const line = toNumber(childText(c, 'line')); if (line !== undefined) source.line = line;
      const dir = childText(c, 'dir'); if (dir !== undefined) source.dir = dir;
      aux.push({ text, source, role: auxRole(text) });
    } else if (c.name === 'suppression') {
      suppression = parseSuppression(c);
    }
  }
  if (!(ERROR_KINDS as readonly string[]).includes(kindText)) {
    const u: UnknownKindError = { unique, kind: kindText, what, stack, aux, tid, ...place };
    if (threadName !== undefined) u.threadName = threadName;
    unknown.push(u);
    return undefined;
  }
  const kind = kindText as ErrorKind;
  const rec: ErrorRecord = { kind, what, stack, aux, tid };
  if (threadName !== undefined) rec.threadName = threadName;
  const fd = toNumber(childText(el, 'fd'));
  if (fd !== undefined) {
    const p = childText(el, 'path');
    rec.fd = p !== undefined ? { fd, path: p } : { fd };
  }
  completeFromWhat(rec);
  if (xwhat && leakStateOf(kind) && rec.leak) {
    // Trust the plain numbers over the text when both are there.
    const blocks = toNumber(childText(xwhat, 'leakedblocks'));
    if (blocks !== undefined) rec.leak.blocks = blocks;
  }
  if (suppression) fillMangledNames(rec.stack, suppression);
  const out: ReadError = { unique, record: rec, afterFinished, ...place };
  if (suppression) out.suppression = suppression;
  return out;
}

/**
 * The suppression lists the raw (mangled) names of the printed frames, one `<sframe>` per frame;
 * where it differs from the demangled `<fn>`, keep it as the frame's `mangled` name.
 */
function fillMangledNames(stack: ErrorFrame[], supp: ReadSuppression): void {
  if (supp.frames.length !== stack.length) return;
  supp.frames.forEach((sf, i) => {
    const f = stack[i];
    if ('fun' in sf && f.fn !== undefined && sf.fun !== f.fn) f.mangled = sf.fun;
  });
}

function parseFatalSignal(el: XmlElement): FatalSignalInfo {
  const sig: FatalSignalInfo = {
    tid: toNumber(childText(el, 'tid')) ?? 0,
    signo: toNumber(childText(el, 'signo')) ?? 0,
    signame: childText(el, 'signame') ?? '',
    sicode: toNumber(childText(el, 'sicode')) ?? 0,
    stack: [],
  };
  const tn = childText(el, 'threadname'); if (tn !== undefined) sig.threadName = tn;
  const ev = childText(el, 'event'); if (ev !== undefined) sig.event = ev;
  const addr = toNumber(childText(el, 'siaddr')); if (addr !== undefined) sig.address = addr;
  const st = child(el, 'stack'); if (st) sig.stack = parseStack(st);
  return sig;
}

function parseClientMessage(el: XmlElement): ClientMessage {
  const m: ClientMessage = { tid: toNumber(childText(el, 'tid')) ?? 0, text: childText(el, 'text') ?? '' };
  const tn = childText(el, 'threadname'); if (tn !== undefined) m.threadName = tn;
  const st = child(el, 'stack'); if (st) m.stack = parseStack(st);
  return m;
}

function totals(el: XmlElement | undefined): XmlLeakTotals | undefined {
  if (!el) return undefined;
  return { bytes: toNumber(childText(el, 'bytes')) ?? 0, blocks: toNumber(childText(el, 'blocks') ?? childText(el, 'in_blocks')) ?? 0 };
}

function parseArgv(el: XmlElement | undefined): { exe: string; args: string[] } | undefined {
  if (!el) return undefined;
  return { exe: childText(el, 'exe') ?? '', args: elements(el, 'arg').map(textOf) };
}

/** Parse a Valgrind XML document (complete or cut short). */
export function readValgrindXml(text: string): ValgrindXmlDocument {
  const tree = parseXmlTree(text);
  const root = child(tree, 'valgrindoutput');
  const doc: ValgrindXmlDocument = {
    preamble: [], logFileQualifiers: [], status: [], errors: [], unknownErrors: [], fatalSignals: [],
    clientMessages: [], events: [], errorCounts: [], suppCounts: [], complete: root?.closed ?? false,
  };
  if (!root) return doc;
  let finished = false;
  for (const el of elements(root)) {
    switch (el.name) {
      case 'protocolversion': doc.protocolVersion = toNumber(textOf(el)); break;
      case 'protocoltool': doc.protocolTool = textOf(el).trim(); break;
      case 'preamble': doc.preamble = elements(el, 'line').map(textOf); break;
      case 'pid': doc.pid = toNumber(textOf(el)); break;
      case 'ppid': doc.ppid = toNumber(textOf(el)); break;
      case 'tool': doc.tool = textOf(el).trim(); break;
      case 'logfilequalifier':
        doc.logFileQualifiers.push({ name: childText(el, 'var') ?? '', value: childText(el, 'value') ?? '' });
        break;
      case 'usercomment': doc.userComment = textOf(el); break;
      case 'args': {
        const v = parseArgv(child(el, 'vargv')); if (v) doc.vargv = v;
        const a = parseArgv(child(el, 'argv')); if (a) doc.argv = a;
        break;
      }
      case 'status': {
        const st = { state: (childText(el, 'state') ?? '').trim(), time: childText(el, 'time') ?? '' };
        doc.status.push(st);
        doc.events.push({ type: 'status', ...st });
        if (st.state === 'FINISHED') finished = true;
        break;
      }
      case 'error': {
        const before = doc.unknownErrors.length;
        const e = parseError(el, finished, doc.unknownErrors);
        if (e) { doc.errors.push(e); doc.events.push({ type: 'error', error: e }); }
        else if (doc.unknownErrors.length > before) doc.events.push({ type: 'unknown-error', error: doc.unknownErrors[doc.unknownErrors.length - 1] });
        break;
      }
      case 'suppression': doc.events.push({ type: 'suppression', suppression: parseSuppression(el) }); break;
      case 'fatal_signal': {
        const s = parseFatalSignal(el);
        doc.fatalSignals.push(s);
        doc.events.push({ type: 'fatal_signal', signal: s });
        break;
      }
      case 'clientmsg': {
        const m = parseClientMessage(el);
        doc.clientMessages.push(m);
        doc.events.push({ type: 'clientmsg', message: m });
        break;
      }
      case 'errorcounts':
        for (const p of elements(el, 'pair')) {
          doc.errorCounts.push({ count: toNumber(childText(p, 'count')) ?? 0, unique: toNumber(childText(p, 'unique')) ?? -1 });
        }
        break;
      case 'suppcounts':
        for (const p of elements(el, 'pair')) {
          doc.suppCounts.push({ count: toNumber(childText(p, 'count')) ?? 0, name: childText(p, 'name') ?? '' });
        }
        break;
      case 'heap_summary': {
        const inUse = child(el, 'memory_in_use_at_exit');
        const usage = child(el, 'total_heap_usage');
        doc.heapSummary = {
          inUseBytes: toNumber(inUse && childText(inUse, 'bytes')) ?? 0,
          inUseBlocks: toNumber(inUse && childText(inUse, 'blocks')) ?? 0,
          allocs: toNumber(usage && childText(usage, 'allocs')) ?? 0,
          frees: toNumber(usage && childText(usage, 'frees')) ?? 0,
          bytesAllocated: toNumber(usage && childText(usage, 'bytes_allocated')) ?? 0,
        };
        break;
      }
      case 'all_heap_blocks_freed': doc.allHeapBlocksFreed = textOf(el).trim() === 'true'; break;
      case 'leak_summary': {
        const reach = child(el, 'still_reachable');
        const rt = totals(reach);
        doc.leakSummary = {};
        const d = totals(child(el, 'definitely_lost')); if (d) doc.leakSummary.definite = d;
        const i = totals(child(el, 'indirectly_lost')); if (i) doc.leakSummary.indirect = i;
        const p = totals(child(el, 'possibly_lost')); if (p) doc.leakSummary.possible = p;
        if (rt && reach) {
          doc.leakSummary.reachable = {
            ...rt,
            heuristics: elements(reach, 'reachable_heuristic').map((h) => ({
              kind: childText(h, 'kind') ?? '', bytes: toNumber(childText(h, 'bytes')) ?? 0, blocks: toNumber(childText(h, 'blocks')) ?? 0,
            })),
          };
        }
        const s = totals(child(el, 'suppressed')); if (s) doc.leakSummary.suppressed = s;
        break;
      }
      case 'error_summary':
        doc.errorSummary = {
          errors: toNumber(childText(el, 'errors')) ?? 0,
          contexts: toNumber(childText(el, 'error_contexts')) ?? 0,
          suppressed: toNumber(childText(el, 'suppressed')) ?? 0,
          suppressedContexts: toNumber(childText(el, 'suppressed_contexts')) ?? 0,
        };
        break;
      default:
        break; // unknown elements are ignored, as the protocol asks
    }
  }
  return doc;
}
