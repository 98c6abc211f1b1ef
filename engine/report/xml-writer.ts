/**
 * Valgrind XML output, protocol 4, streamed: the preamble and RUNNING status at start, each
 * error as it is shown, the FINISHED status, leak errors, and the closing counts. Every piece is
 * written as soon as it is known, so a run that dies still leaves a prefix that close() can turn
 * into a well-formed document (from a crash handler or a SIGTERM path).
 *
 * Byte layout follows Valgrind 3.19 (reference §7), including its quirks: the trailing space in
 * `<time>`, FishyValue's `</what>  <stack>`, the two-argument Overlap's `</what>` on its own
 * line, suppressions printed twice with --gen-suppressions=all.
 *
 * Deliberate differences, all for well-formedness: `<threadname>`, arena names and client block
 * descriptions are escaped (Valgrind writes them raw), and a `]]>` inside a suppression's raw
 * text is split across two CDATA sections (Valgrind leaves it, breaking the document).
 */
import type { AuxItem, ErrorRecord } from '../errors/error-record';
import { leakedBytes } from '../errors/error-record';
import type { ErrorContext, ErrorManager } from '../errors/error-manager';
import { hexLower, hexUnique } from '../errors/format';
import { printedFrames } from '../errors/stack';
import { generateSuppressionParts } from '../errors/suppressions';
import type { ClientMessage, FatalSignalInfo } from './events';
import { stackXml, xmlEscape } from './frames';
import type { LogSink } from './log-target';
import { fileQualifiers } from './log-target';
import { preambleLines, UNIGRIND_VERSION } from './preamble';

/** Options of the XML writer. */
export interface XmlWriterOptions {
  sink: LogSink;
  pid: number;
  ppid: number;
  /** The client's argv (program then arguments). */
  command: readonly string[];
  /** `<vargv><exe>`: the launcher's path. */
  launcher?: string;
  /** `<vargv><arg>`s: the tool-level options as given. */
  toolArgs?: readonly string[];
  /** The unexpanded --xml-file template, for its `%q{VAR}` `<logfilequalifier>`s. */
  xmlFileTemplate?: string;
  env?: NodeJS.ProcessEnv;
  /** --xml-user-comment (inserted verbatim: it is XML). */
  userComment?: string;
  /** --gen-suppressions=all. */
  genSuppressions?: boolean;
  showBelowMain?: boolean;
  /** 0 for -q; `<suppcounts>` is printed only when verbosity ≥ 1 or showErrorList. */
  verbosity?: number;
  showErrorList?: boolean;
  /** Milliseconds since the run started, for `<time>` (default: since this writer was made). */
  clock?: () => number;
  version?: string;
}

type State = 'new' | 'running' | 'finished' | 'closed';

/** Elapsed time as Valgrind prints it: `DD:HH:MM:SS.mmm ` (note the trailing space). */
export function elapsedTime(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  const p2 = (n: number) => String(n).padStart(2, '0');
  const msPart = String(t % 1000).padStart(3, '0');
  let s = Math.floor(t / 1000);
  const sec = s % 60; s = Math.floor(s / 60);
  const min = s % 60; s = Math.floor(s / 60);
  const hours = s % 24;
  const days = Math.floor(s / 24);
  return `${p2(days)}:${p2(hours)}:${p2(min)}:${p2(sec)}.${msPart} `;
}

/** The XML writer. */
export class XmlWriter {
  private readonly o: XmlWriterOptions;
  private readonly clock: () => number;
  private state: State = 'new';
  private manager?: ErrorManager;

  constructor(options: XmlWriterOptions) {
    this.o = options;
    const start = Date.now();
    this.clock = options.clock ?? (() => Date.now() - start);
  }

  private write(s: string): void {
    this.o.sink.write(s);
  }

  /** Subscribe to the manager: shown errors are written. close() takes the counts from it. */
  attach(manager: ErrorManager): () => void {
    this.manager = manager;
    return manager.on('error', (ctx, isNew) => { if (isNew) this.error(ctx); });
  }

  /** The document head through the RUNNING status. */
  preamble(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    const o = this.o;
    let s = '<?xml version="1.0"?>\n\n<valgrindoutput>\n\n<protocolversion>4</protocolversion>\n<protocoltool>memcheck</protocoltool>\n\n';
    s += '<preamble>\n';
    for (const line of preambleLines('memcheck', o.command, 'xml', o.version ?? UNIGRIND_VERSION)) s += `  <line>${xmlEscape(line)}</line>\n`;
    s += '</preamble>\n\n';
    s += `<pid>${o.pid}</pid>\n<ppid>${o.ppid}</ppid>\n<tool>memcheck</tool>\n`;
    if (o.xmlFileTemplate !== undefined) {
      for (const q of fileQualifiers(o.xmlFileTemplate, o.env)) {
        s += `<logfilequalifier> <var>${xmlEscape(q.name)}</var> <value>${xmlEscape(q.value)}</value> </logfilequalifier>\n`;
      }
    }
    if (o.userComment !== undefined) s += `<usercomment>${o.userComment}</usercomment>\n`;
    s += '\n<args>\n  <vargv>\n';
    s += `    <exe>${xmlEscape(o.launcher ?? '(launcher name unknown)')}</exe>\n`;
    for (const a of o.toolArgs ?? []) s += `    <arg>${xmlEscape(a)}</arg>\n`;
    s += '  </vargv>\n  <argv>\n';
    const [exe, ...args] = o.command;
    s += `    <exe>${xmlEscape(exe ?? '')}</exe>\n`;
    for (const a of args) s += `    <arg>${xmlEscape(a)}</arg>\n`;
    s += '  </argv>\n</args>\n\n';
    s += this.status('RUNNING') + '\n';
    this.write(s);
  }

  private status(state: string): string {
    return `<status>\n  <state>${state}</state>\n  <time>${xmlEscape(elapsedTime(this.clock()))}</time>\n</status>\n`;
  }

  /** One `<error>` element (and, with --gen-suppressions=all, the suppression after it). */
  error(ctx: ErrorContext): void {
    if (this.state === 'closed') return;
    if (this.state === 'new') this.preamble();
    const rec = ctx.record;
    let s = `<error>\n  <unique>${hexUnique(ctx.unique)}</unique>\n  <tid>${rec.tid}</tid>\n`;
    if (rec.threadName !== undefined) s += `  <threadname>${xmlEscape(rec.threadName)}</threadname>\n`;
    s += `  <kind>${rec.kind}</kind>\n`;
    s += whatXml(rec);
    s += stackXml(printedFrames(rec.stack, this.o.showBelowMain));
    for (const a of rec.aux) s += auxXml(a, this.o.showBelowMain);
    const supp = this.o.genSuppressions ? this.suppressionXml(rec) : '';
    s += supp;
    s += '</error>\n\n';
    // Valgrind prints the suppression a second time once the error is out (do_actions_on_error).
    s += supp;
    this.write(s);
  }

  private suppressionXml(rec: ErrorRecord): string {
    const g = generateSuppressionParts(rec, { showBelowMain: this.o.showBelowMain });
    if (!g) return '';
    let s = '  <suppression>\n    <sname>insert_a_suppression_name_here</sname>\n';
    s += `    <skind>${xmlEscape(g.kind)}</skind>\n`;
    if (g.extra !== undefined) s += `    <skaux>${xmlEscape(g.extra)}</skaux>\n`;
    for (const f of g.frames) {
      s += 'fun' in f ? `    <sframe> <fun>${xmlEscape(f.fun)}</fun> </sframe>\n` : `    <sframe> <obj>${xmlEscape(f.obj)}</obj> </sframe>\n`;
    }
    s += `    <rawtext>\n<![CDATA[\n${g.rawText.replace(/]]>/g, ']]]]><![CDATA[>')}]]>\n    </rawtext>\n  </suppression>\n`;
    return s;
  }

  /** A `<fatal_signal>` element. */
  fatalSignal(sig: FatalSignalInfo): void {
    if (this.state === 'closed') return;
    if (this.state === 'new') this.preamble();
    let s = `<fatal_signal>\n  <tid>${sig.tid}</tid>\n`;
    if (sig.threadName !== undefined) s += `  <threadname>${xmlEscape(sig.threadName)}</threadname>\n`;
    s += `  <signo>${sig.signo}</signo>\n  <signame>${xmlEscape(sig.signame)}</signame>\n  <sicode>${sig.sicode}</sicode>\n`;
    if (sig.event !== undefined) s += `  <event>${xmlEscape(sig.event)}</event>\n`;
    if (sig.address !== undefined) s += `  <siaddr>${hexLower(sig.address)}</siaddr>\n`;
    const frames = printedFrames(sig.stack, this.o.showBelowMain);
    if (frames.length > 0) s += stackXml(frames);
    s += '</fatal_signal>\n\n';
    this.write(s);
  }

  /** A `<clientmsg>` element (VALGRIND_PRINTF[_BACKTRACE]). */
  clientMessage(msg: ClientMessage): void {
    if (this.state === 'closed') return;
    if (this.state === 'new') this.preamble();
    let s = `<clientmsg>\n  <tid>${msg.tid}</tid>\n`;
    if (msg.threadName !== undefined) s += `  <threadname>${xmlEscape(msg.threadName)}</threadname>\n`;
    s += `  <text>${xmlEscape(msg.text)}</text>\n`;
    if (msg.stack && msg.stack.length > 0) s += stackXml(printedFrames(msg.stack, this.o.showBelowMain));
    s += '</clientmsg>\n\n';
    this.write(s);
  }

  /** The FINISHED status (after which leak errors follow). */
  finished(): void {
    if (this.state === 'new') this.preamble();
    if (this.state !== 'running') return;
    this.state = 'finished';
    this.write('\n' + this.status('FINISHED') + '\n');
  }

  /**
   * Finish the document: FINISHED status if not yet written, `<errorcounts>`, `<suppcounts>`
   * and the closing tag. Safe to call more than once and from abnormal-exit paths; `reason`,
   * when given, is recorded as an XML comment before the closing tag (normal runs pass none).
   */
  close(reason?: string): void {
    if (this.state === 'closed') return;
    this.finished();
    this.state = 'closed';
    const m = this.manager;
    let s = '<errorcounts>\n';
    for (const ctx of m ? m.contexts() : []) {
      if (ctx.suppression || ctx.count <= 0) continue;
      s += `  <pair>\n    <count>${ctx.count}</count>\n    <unique>${hexUnique(ctx.unique)}</unique>\n  </pair>\n`;
    }
    s += '</errorcounts>\n\n';
    const verbosity = this.o.verbosity ?? 1;
    if (this.o.showErrorList || verbosity >= 1) {
      s += '<suppcounts>\n';
      for (const u of m ? m.usedSuppressions() : []) {
        s += `  <pair>\n    <count>${u.count}</count>\n    <name>${xmlEscape(u.suppression.name)}</name>\n  </pair>\n`;
      }
      s += '</suppcounts>\n';
    }
    if (reason !== undefined) s += `<!-- unigrind: ${reason.replace(/--/g, '- -')} -->\n`;
    s += '\n</valgrindoutput>\n\n';
    this.write(s);
  }

  /** --exit-on-first-error: Valgrind ends the document with only the closing tag. */
  abort(): void {
    if (this.state === 'closed') return;
    if (this.state === 'new') this.preamble();
    this.state = 'closed';
    this.write('</valgrindoutput>\n');
  }

  /** Whether close() or abort() has run. */
  get closed(): boolean {
    return this.state === 'closed';
  }
}

/** The `<what>`/`<xwhat>` part of an error, with Valgrind's per-kind layout quirks. */
function whatXml(rec: ErrorRecord): string {
  if (rec.leak) {
    return '  <xwhat>\n'
      + `    <text>${xmlEscape(rec.what)}</text>\n`
      + `    <leakedbytes>${leakedBytes(rec.leak)}</leakedbytes>\n`
      + `    <leakedblocks>${rec.leak.blocks}</leakedblocks>\n`
      + '  </xwhat>\n';
  }
  const what = xmlEscape(rec.what);
  // FishyValue's text carries its own newline and no newline follows </what>.
  if (rec.kind === 'FishyValue') return `  <what>${what}\n</what>`;
  // The two-argument Overlap closes </what> on the next line.
  if (rec.kind === 'Overlap' && isUnsizedOverlap(rec)) return `  <what>${what}\n</what>\n`;
  if (rec.fd) return `  <what>${what}</what>\n  <fd>${rec.fd.fd}</fd>\n${rec.fd.path !== undefined ? `  <path>${xmlEscape(rec.fd.path)}</path>\n` : ''}`;
  return `  <what>${what}</what>\n`;
}

function isUnsizedOverlap(rec: ErrorRecord): boolean {
  if (rec.overlap) return rec.overlap.len === undefined || rec.overlap.len === 0;
  return !/, \d+\)$/.test(rec.what);
}

function auxXml(a: AuxItem, showBelowMain?: boolean): string {
  let s: string;
  if (a.source) {
    s = `  <xauxwhat><text>${xmlEscape(a.text)}</text>`;
    if (a.source.file !== undefined) s += ` <file>${xmlEscape(a.source.file)}</file>`;
    if (a.source.line !== undefined) s += ` <line>${a.source.line}</line>`;
    if (a.source.dir !== undefined) s += ` <dir>${xmlEscape(a.source.dir)}</dir>`;
    s += ' </xauxwhat>\n';
  } else {
    s = `  <auxwhat>${xmlEscape(a.text)}</auxwhat>\n`;
  }
  if (a.stack && a.stack.length > 0) s += stackXml(printedFrames(a.stack, showBelowMain));
  return s;
}
