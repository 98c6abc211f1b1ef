/**
 * Reader of Valgrind's XML output, protocols 4, 5 and 6 (and later: unknown elements and kinds
 * are ignored or passed through, never rejected — consumers that insisted on protocol 4 broke
 * when Valgrind 3.26 moved to 6).
 *
 * The element tree is Valgrind's `docs/internals/xml-output-protocol4.txt` plus the protocol 5
 * fd errors and the protocol 6 summaries. The parser runs fast-xml-parser in `preserveOrder`
 * mode because an error's `<auxwhat>` lines and `<stack>`s interleave and each stack belongs to
 * the auxiliary line before it.
 *
 * A file that is still being written (no `</valgrindoutput>` yet) is read up to its last
 * complete top-level element, so findings show while Valgrind runs.
 */
import { XMLParser } from 'fast-xml-parser';
import type { AuxInfo, ErrorRecord, SuppressionSpec, ValgrindFrame } from './protocol';

/** A `<fatal_signal>`: the client died of a signal (SIGSEGV, …). */
export interface FatalSignal {
  tid?: number;
  signo: number;
  signame: string;
  sicode?: number;
  event?: string;
  siaddr?: number;
  stack: ValgrindFrame[];
}

/** `<bytes>`/`<blocks>` pairs of the protocol 6 leak summary. */
export interface ByteBlocks {
  bytes: number;
  blocks: number;
}

/** Protocol 6 end-of-run summaries. */
export interface RunSummaries {
  inUseAtExit?: ByteBlocks;
  totalHeapUsage?: { allocs: number; frees: number; bytesAllocated: number };
  allHeapBlocksFreed?: boolean;
  leaks?: Partial<Record<'definitelyLost' | 'indirectlyLost' | 'possiblyLost' | 'stillReachable' | 'suppressed', ByteBlocks>>;
  errors?: { errors: number; contexts: number; suppressed: number; suppressedContexts: number };
}

/** Everything a Valgrind XML document says that the editor uses. */
export interface ValgrindRun {
  protocolVersion?: number;
  tool?: string;
  pid?: number;
  ppid?: number;
  /** The client's argv (`<args><argv>`). */
  argv?: { exe: string; args: string[] };
  errors: ErrorRecord[];
  /** 1-based line of each error's `<error>` tag in the document, parallel to `errors`. */
  errorLines: number[];
  fatalSignals: FatalSignal[];
  /** `<suppcounts>`: suppressions that matched, with their use counts. */
  suppCounts: { name: string; count: number }[];
  summaries: RunSummaries;
  /** False when the document was cut short (the run is still going, or it died). */
  complete: boolean;
}

/** True when `head` (the first bytes of a file) opens a `<valgrindoutput>` document. */
export function isValgrindXml(head: string): boolean {
  // Skip the XML declaration, comments, processing instructions and a doctype before the root.
  const prolog = /^(?:\uFEFF)?(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)*/;
  const rest = head.slice(prolog.exec(head)?.[0].length ?? 0);
  return /^<valgrindoutput[\s>]/.test(rest);
}

/** Parse a Valgrind XML document; throws when it is not one. */
export function parseValgrindXml(text: string): ValgrindRun {
  if (!isValgrindXml(text)) throw new Error('not a Valgrind XML document (<valgrindoutput> root expected)');
  const complete = /<\/valgrindoutput>\s*$/.test(text);
  const usable = complete ? text : closeTruncated(text);
  const tree = PARSER.parse(usable) as XNode[];
  const root = tree.find((n) => tagOf(n) === 'valgrindoutput');
  if (!root) throw new Error('no <valgrindoutput> element');
  const run: ValgrindRun = {
    errors: [],
    errorLines: openTagLines(usable, 'error'),
    fatalSignals: [],
    suppCounts: [],
    summaries: {},
    complete,
  };
  const counts = new Map<number, number>();
  for (const node of kids(root)) {
    const body = kids(node);
    switch (tagOf(node)) {
      case 'protocolversion': run.protocolVersion = int(text0(body)); break;
      case 'protocoltool': run.tool = text0(body); break;
      case 'pid': run.pid = int(text0(body)); break;
      case 'ppid': run.ppid = int(text0(body)); break;
      case 'args': run.argv = readArgv(body); break;
      case 'error': run.errors.push(readError(body)); break;
      case 'fatal_signal': run.fatalSignals.push(readFatalSignal(body)); break;
      case 'errorcounts':
        for (const pair of all(body, 'pair')) counts.set(int(childText(pair, 'unique')) ?? -1, int(childText(pair, 'count')) ?? 1);
        break;
      case 'suppcounts':
        for (const pair of all(body, 'pair')) run.suppCounts.push({ name: childText(pair, 'name') ?? '', count: int(childText(pair, 'count')) ?? 0 });
        break;
      case 'heap_summary': readHeapSummary(body, run.summaries); break;
      case 'all_heap_blocks_freed': run.summaries.allHeapBlocksFreed = text0(body) === 'true'; break;
      case 'leak_summary': run.summaries.leaks = readLeakSummary(body); break;
      case 'error_summary': run.summaries.errors = readErrorSummary(body); break;
      default: break; // preamble, status, clientmsg, top-level suppression copies, future elements
    }
  }
  for (const e of run.errors) {
    const c = counts.get(e.unique);
    if (c !== undefined) e.count = c;
    else if (e.count === undefined) e.count = 1;
  }
  // A truncated document may end inside an error whose `<error>` tag we still counted.
  run.errorLines.length = Math.min(run.errorLines.length, run.errors.length);
  return run;
}

// ---- fast-xml-parser in preserveOrder mode: every node is { tag: XNode[] } or { '#text': s } ----

type XNode = Record<string, unknown>;

const PARSER = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false, // keep "0x1A" and "007" as written; numbers are converted field by field
  trimValues: true, // `<what>` of Overlap and FishyValue ends with a newline (protocol quirk)
  cdataPropName: '#cdata',
});

function tagOf(n: XNode): string {
  for (const k of Object.keys(n)) if (k !== ':@') return k;
  return '';
}

function kids(n: XNode): XNode[] {
  const v = n[tagOf(n)];
  return Array.isArray(v) ? (v as XNode[]) : [];
}

/** Concatenated text and CDATA directly under a node list. */
function text0(nodes: XNode[]): string {
  let out = '';
  for (const n of nodes) {
    if (typeof n['#text'] === 'string' || typeof n['#text'] === 'number') out += String(n['#text']);
    else if (Array.isArray(n['#cdata'])) out += text0(n['#cdata'] as XNode[]);
  }
  return out;
}

function first(nodes: XNode[], tag: string): XNode[] | undefined {
  const n = nodes.find((x) => tagOf(x) === tag);
  return n ? kids(n) : undefined;
}

function all(nodes: XNode[], tag: string): XNode[][] {
  return nodes.filter((x) => tagOf(x) === tag).map(kids);
}

function childText(nodes: XNode[], tag: string): string | undefined {
  const c = first(nodes, tag);
  return c === undefined ? undefined : text0(c);
}

/** Decimal or 0x-hex integer; separators (`90,112` in protocol 6 summaries) are dropped. */
function int(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim().replace(/,/g, '');
  if (t === '') return undefined;
  const v = /^-?0x/i.test(t) ? Number.parseInt(t, 16) : Number.parseInt(t, 10);
  return Number.isFinite(v) ? v : undefined;
}

// ---- elements ----

function readArgv(args: XNode[]): ValgrindRun['argv'] {
  const argv = first(args, 'argv');
  if (!argv) return undefined;
  return { exe: childText(argv, 'exe') ?? '', args: all(argv, 'arg').map(text0) };
}

function readFrame(f: XNode[]): ValgrindFrame {
  const frame: ValgrindFrame = {};
  const ip = int(childText(f, 'ip'));
  if (ip !== undefined) frame.ip = ip;
  for (const k of ['obj', 'fn', 'dir', 'file'] as const) {
    const v = childText(f, k);
    if (v !== undefined && v !== '') frame[k] = v;
  }
  const line = int(childText(f, 'line'));
  if (line !== undefined) frame.line = line;
  return frame;
}

function readStack(s: XNode[]): ValgrindFrame[] {
  return all(s, 'frame').map(readFrame);
}

function readSuppression(s: XNode[]): SuppressionSpec {
  const frames: string[] = [];
  for (const sf of all(s, 'sframe')) {
    const fun = childText(sf, 'fun');
    const obj = childText(sf, 'obj');
    if (fun !== undefined) frames.push(`fun:${fun}`);
    else if (obj !== undefined) frames.push(`obj:${obj}`);
    else frames.push('...');
  }
  const aux = all(s, 'skaux').map(text0).filter((x) => x !== '');
  return { kind: childText(s, 'skind') ?? '', extra: aux, frames };
}

function readError(e: XNode[]): ErrorRecord {
  const rec: ErrorRecord = { unique: int(childText(e, 'unique')) ?? -1, kind: childText(e, 'kind') ?? 'Unknown', what: '', stack: [], aux: [] };
  const tid = int(childText(e, 'tid'));
  if (tid !== undefined) rec.tid = tid;
  const tname = childText(e, 'threadname');
  if (tname) rec.threadName = tname;
  let sawPrimaryStack = false;
  for (const n of e) {
    const body = kids(n);
    switch (tagOf(n)) {
      case 'what': rec.what = text0(body); break;
      case 'xwhat': {
        rec.what = childText(body, 'text') ?? '';
        const bytes = int(childText(body, 'leakedbytes'));
        const blocks = int(childText(body, 'leakedblocks'));
        if (bytes !== undefined) rec.leakedBytes = bytes;
        if (blocks !== undefined) rec.leakedBlocks = blocks;
        break;
      }
      case 'stack':
        // The first stack is the error's own; each later one belongs to the aux line before it.
        if (!sawPrimaryStack) {
          rec.stack = readStack(body);
          sawPrimaryStack = true;
        } else {
          const last = rec.aux[rec.aux.length - 1];
          if (last && last.stack === undefined) last.stack = readStack(body);
          else rec.aux.push({ text: '', stack: readStack(body) });
        }
        break;
      case 'auxwhat': rec.aux.push({ text: text0(body) }); break;
      case 'xauxwhat': {
        const aux: AuxInfo = { text: childText(body, 'text') ?? '' };
        const file = childText(body, 'file');
        const dir = childText(body, 'dir');
        const line = int(childText(body, 'line'));
        if (file) aux.file = file;
        if (dir) aux.dir = dir;
        if (line !== undefined) aux.line = line;
        rec.aux.push(aux);
        break;
      }
      case 'suppression': rec.suppression = readSuppression(body); break;
      case 'fd': { const fd = int(text0(body)); if (fd !== undefined) rec.fd = fd; break; }
      case 'path': rec.path = text0(body); break;
      default: break;
    }
  }
  return rec;
}

function readFatalSignal(f: XNode[]): FatalSignal {
  const sig: FatalSignal = {
    signo: int(childText(f, 'signo')) ?? 0,
    signame: childText(f, 'signame') ?? '',
    stack: readStack(first(f, 'stack') ?? []),
  };
  const tid = int(childText(f, 'tid'));
  if (tid !== undefined) sig.tid = tid;
  const code = int(childText(f, 'sicode'));
  if (code !== undefined) sig.sicode = code;
  const event = childText(f, 'event');
  if (event) sig.event = event;
  const addr = int(childText(f, 'siaddr'));
  if (addr !== undefined) sig.siaddr = addr;
  return sig;
}

function byteBlocks(n: XNode[] | undefined): ByteBlocks | undefined {
  if (!n) return undefined;
  // The protocol 6 specification's example says <in_blocks>; Valgrind's code writes <blocks>.
  return { bytes: int(childText(n, 'bytes')) ?? 0, blocks: int(childText(n, 'blocks') ?? childText(n, 'in_blocks')) ?? 0 };
}

function readHeapSummary(h: XNode[], out: RunSummaries): void {
  const inUse = byteBlocks(first(h, 'memory_in_use_at_exit'));
  if (inUse) out.inUseAtExit = inUse;
  const usage = first(h, 'total_heap_usage');
  if (usage) {
    out.totalHeapUsage = {
      allocs: int(childText(usage, 'allocs')) ?? 0,
      frees: int(childText(usage, 'frees')) ?? 0,
      bytesAllocated: int(childText(usage, 'bytes_allocated')) ?? 0,
    };
  }
}

function readLeakSummary(l: XNode[]): RunSummaries['leaks'] {
  const out: NonNullable<RunSummaries['leaks']> = {};
  const names = { definitely_lost: 'definitelyLost', indirectly_lost: 'indirectlyLost', possibly_lost: 'possiblyLost', still_reachable: 'stillReachable', suppressed: 'suppressed' } as const;
  for (const [xml, key] of Object.entries(names)) {
    const v = byteBlocks(first(l, xml));
    if (v) out[key] = v;
  }
  return out;
}

function readErrorSummary(s: XNode[]): RunSummaries['errors'] {
  return {
    errors: int(childText(s, 'errors')) ?? 0,
    contexts: int(childText(s, 'error_contexts')) ?? 0,
    suppressed: int(childText(s, 'suppressed')) ?? 0,
    suppressedContexts: int(childText(s, 'suppressed_contexts')) ?? 0,
  };
}

// ---- raw text helpers ----

/** Top-level elements after which a document being written can be cut and closed. */
const TOP_LEVEL_CLOSERS = ['</error>', '</status>', '</fatal_signal>', '</clientmsg>', '</errorcounts>', '</suppcounts>', '</args>', '</preamble>', '</tool>'];

function closeTruncated(text: string): string {
  let cut = -1;
  for (const closer of TOP_LEVEL_CLOSERS) {
    const at = text.lastIndexOf(closer);
    if (at >= 0) cut = Math.max(cut, at + closer.length);
  }
  if (cut < 0) {
    const open = /<valgrindoutput\s*>/.exec(text);
    if (!open) throw new Error('truncated before <valgrindoutput>');
    cut = open.index + open[0].length;
  }
  return `${text.slice(0, cut)}\n</valgrindoutput>\n`;
}

/** 1-based line numbers of every `<tag>` opening in the text, in order. */
function openTagLines(text: string, tag: string): number[] {
  const lines: number[] = [];
  const re = new RegExp(`<${tag}>`, 'g');
  let line = 1;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    for (let i = text.indexOf('\n', pos); i >= 0 && i < m.index; i = text.indexOf('\n', i + 1)) line++;
    pos = m.index;
    lines.push(line);
  }
  return lines;
}
