/**
 * Helpers of the oracle tests: build the C/C++ fixtures with gcc, run the real Valgrind 3.19 on
 * them, and replay its XML through unigrind's error manager and writers.
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import type { LeakState } from '../../../engine/errors/error-record';
import { ErrorManager } from '../../../engine/errors/error-manager';
import type { LossRecordInput } from '../../../engine/errors/leak-report';
import type { Suppression } from '../../../engine/errors/suppressions';
import { reportEndOfRun } from '../../../engine/report/end-of-run';
import type { HeapSummary } from '../../../engine/report/events';
import { MemorySink } from '../../../engine/report/log-target';
import { TextWriter } from '../../../engine/report/text-writer';
import type { ValgrindXmlDocument } from '../../../engine/report/xml-reader';
import { XmlWriter } from '../../../engine/report/xml-writer';

const run = promisify(execFile);

/** Source directory of the fixtures (the test runs from dist/, the sources stay in test/). */
export const FIXTURES = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'report');

/** Whether valgrind and gcc are usable here. */
export function haveTools(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'pipe' });
    execFileSync('gcc', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

let workDir: string | undefined;
/** A scratch directory for this test process. */
export function scratch(): string {
  workDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-report-'));
  return workDir;
}

/** Compile a fixture (C with gcc, C++ with g++) into the scratch directory; returns its name. */
export async function build(name: string): Promise<string> {
  const dir = scratch();
  const src = ['.c', '.cpp'].map((e) => path.join(FIXTURES, name + e)).find((p) => fs.existsSync(p));
  if (!src) throw new Error(`no fixture ${name}`);
  const compiler = src.endsWith('.cpp') ? 'g++' : 'gcc';
  await run(compiler, ['-g', '-O0', '-fno-builtin', '-o', path.join(dir, name), src]);
  return name;
}

/** Run valgrind on ./prog in the scratch directory with the options; returns the files asked. */
export async function valgrind(prog: string, options: string[], tag: string, xml: boolean): Promise<{ text: string; xml?: string }> {
  const dir = scratch();
  const log = `${prog}.${tag}.log`;
  const args = [...options, `--log-file=${log}`];
  const xmlName = `${prog}.${tag}.xml`;
  if (xml) args.push('--xml=yes', `--xml-file=${xmlName}`);
  args.push(`./${prog}`);
  try {
    await run('valgrind', args, { cwd: dir });
  } catch {
    // The fixtures' own exit status is not the point (uninit exits with garbage).
  }
  const out: { text: string; xml?: string } = { text: fs.readFileSync(path.join(dir, log), 'latin1') };
  if (xml) out.xml = fs.readFileSync(path.join(dir, xmlName), 'latin1');
  return out;
}

/** Valgrind's `<time>` text back to milliseconds. */
export function timeToMs(t: string): number {
  const m = /(\d+):(\d+):(\d+):(\d+)\.(\d+)/.exec(t);
  if (!m) return 0;
  return (((+m[1] * 24 + +m[2]) * 60 + +m[3]) * 60 + +m[4]) * 1000 + +m[5];
}

/** The figures of the HEAP SUMMARY of a text log (protocol 4 XML does not carry them). */
export function heapFromText(text: string): HeapSummary | undefined {
  const n = (s: string) => Number(s.replace(/,/g, ''));
  const a = /in use at exit: ([\d,]+) bytes in ([\d,]+) blocks/.exec(text);
  const b = /total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes allocated/.exec(text);
  if (!a || !b) return undefined; // -q logs have none
  return { inUseBytes: n(a[1]), inUseBlocks: n(a[2]), allocs: n(b[1]), frees: n(b[2]), bytesAllocated: n(b[3]) };
}

/** Options of a replay. */
export interface ReplayOptions {
  doc: ValgrindXmlDocument;
  /** Produce text (with the pid and ppid of this log) instead of XML. */
  textLog?: string;
  /** XML document whose pid, args and times the output should carry (default: doc). */
  timesFrom?: ValgrindXmlDocument;
  suppressions?: Suppression[];
  genSuppressions?: boolean;
  leakCheck?: 'summary' | 'full';
  showLeakKinds?: Set<LeakState>;
  showErrorList?: boolean;
  verbosity?: number;
  /** Loss records to use instead of the document's (when the run printed only some). */
  lossRecords?: LossRecordInput[];
}

/**
 * Feed the errors of a Valgrind XML document through a fresh ErrorManager and one writer, in
 * the order Valgrind found them: each non-leak error `count` times (the fixtures repeat an error
 * right after its first occurrence), then the leak records at the end of the run.
 */
export function replay(o: ReplayOptions): string {
  const doc = o.doc;
  const meta = o.timesFrom ?? doc;
  const sink = new MemorySink();
  const xml = o.textLog === undefined;
  const manager = new ErrorManager({ xml, suppressions: o.suppressions ?? [] });
  const command = [doc.argv?.exe ?? '', ...(doc.argv?.args ?? [])];
  let text: TextWriter | undefined;
  let xmlWriter: XmlWriter | undefined;
  if (o.textLog !== undefined) {
    const pid = Number(/^==(\d+)==/.exec(o.textLog)?.[1]);
    const ppid = Number(/Parent PID: (\d+)/.exec(o.textLog)?.[1]);
    text = new TextWriter({
      sink, pid, ppid, command, toFile: true,
      genSuppressions: o.genSuppressions ? 'all' : 'no',
      ...(o.showErrorList !== undefined ? { showErrorList: o.showErrorList } : {}),
      ...(o.verbosity !== undefined ? { verbosity: o.verbosity } : {}),
    });
    text.attach(manager);
    text.preamble();
  } else {
    const times = meta.status.map((s) => timeToMs(s.time));
    xmlWriter = new XmlWriter({
      sink, pid: meta.pid ?? 0, ppid: meta.ppid ?? 0, command,
      launcher: meta.vargv?.exe ?? '', toolArgs: meta.vargv?.args ?? [],
      genSuppressions: o.genSuppressions ?? false,
      ...(o.verbosity !== undefined ? { verbosity: o.verbosity } : {}),
      clock: () => times.shift() ?? 0,
    });
    xmlWriter.attach(manager);
    xmlWriter.preamble();
  }
  const counts = new Map(doc.errorCounts.map((c) => [c.unique, c.count]));
  const leaks: LossRecordInput[] = [];
  for (const ev of doc.events) {
    if (ev.type === 'fatal_signal') {
      // The stack-size advice is in the text log only.
      const size = o.textLog !== undefined ? /stack size used in this run was (\d+)/.exec(o.textLog)?.[1] : undefined;
      const sig = size !== undefined ? { ...ev.signal, mainStackSize: Number(size) } : ev.signal;
      text?.fatalSignal(sig);
      xmlWriter?.fatalSignal(sig);
      continue;
    }
    if (ev.type !== 'error') continue;
    const r = ev.error.record;
    if (r.leak) {
      leaks.push({ state: r.leak.state, stack: r.stack, bytes: r.leak.bytes, indirectBytes: r.leak.indirectBytes, blocks: r.leak.blocks });
      continue;
    }
    const n = counts.get(ev.error.unique) ?? 1;
    for (let i = 0; i < n; i++) manager.report(r);
  }
  reportEndOfRun({
    manager,
    ...(text ? { text } : {}),
    ...(xmlWriter ? { xml: xmlWriter } : {}),
    heap: o.textLog !== undefined ? heapFromText(o.textLog) : undefined,
    leakCheck: o.leakCheck ?? 'full',
    showLeakKinds: o.showLeakKinds ?? new Set<LeakState>(['definite', 'indirect', 'possible', 'reachable']),
    lossRecords: o.lossRecords ?? leaks,
  });
  return sink.text;
}

/** Mask what legitimately differs: the two identity lines of the banner. */
export function maskIdentity(s: string): string {
  return s
    .replace(/(<preamble>\n  <line>[^\n]*<\/line>\n)  <line>[^\n]*<\/line>\n  <line>[^\n]*<\/line>\n/, '$1  <line>IDENTITY</line>\n  <line>IDENTITY</line>\n')
    .replace(/^(==\d+== [^\n]*\n==\d+== )[^\n]*\n(==\d+== )[^\n]*\n/, '$1IDENTITY\n$2IDENTITY\n');
}
