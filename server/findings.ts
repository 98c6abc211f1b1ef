/**
 * The findings the server knows, grouped by where they came from: one source per Valgrind XML
 * file, one per live debug session. Everything the editor shows is derived from this store.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hexLower } from '../engine/errors/format';
import type { FatalSignalInfo } from '../engine/report/events';
import { protocolFrame } from './engine-records';
import { FATAL_SIGNAL_KIND } from './kinds';
import type { ErrorRecord, FindingsParams, LiveSessionInfo } from './protocol';
import type { ValgrindRun } from './valgrind-xml';

/** Where a group of findings came from, and how to run that program again. */
export interface Source {
  /** `xml:<path>` or `live:<session id>`. */
  key: string;
  /** Shown in hovers: the XML file name or the session name. */
  label: string;
  xmlPath?: string;
  sessionId?: string;
  pid?: number;
  program?: string;
  args?: string[];
  cwd?: string;
  /** Folders against which relative frame directories are tried. */
  baseDirs: string[];
  records: ErrorRecord[];
  /** For XML sources: 1-based line of each record's `<error>`, parallel to `records`. */
  xmlLines: (number | undefined)[];
}

/** One error record with its source. */
export interface Finding {
  /** Stable within a source: `<source key>#<unique>`. */
  id: string;
  source: Source;
  record: ErrorRecord;
  xmlLine?: number;
}

/** The store; listeners hear about every change. */
export class FindingStore {
  private readonly sources = new Map<string, Source>();
  private readonly listeners: (() => void)[] = [];

  /** Call `listener` after each change. */
  onDidChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Replace the findings of an XML file. */
  setXml(xmlPath: string, run: ValgrindRun): void {
    const dir = path.dirname(xmlPath);
    const doc = run.document;
    const records = [...run.errors, ...doc.fatalSignals.map(fatalSignalRecord)];
    const source: Source = {
      key: `xml:${xmlPath}`,
      label: path.basename(xmlPath),
      xmlPath,
      baseDirs: [dir],
      records,
      xmlLines: records.map((_, i) => run.errorLines[i]),
    };
    if (doc.pid !== undefined) source.pid = doc.pid;
    if (doc.argv) {
      source.program = resolveProgram(doc.argv.exe, run.errors, dir);
      source.args = doc.argv.args;
    }
    this.sources.set(source.key, source);
    this.changed();
  }

  /** Forget an XML file (deleted, or no longer matching the settings). */
  removeXml(xmlPath: string): void {
    if (this.sources.delete(`xml:${xmlPath}`)) this.changed();
  }

  /** Paths of the XML files currently loaded. */
  xmlPaths(): string[] {
    return [...this.sources.values()].flatMap((s) => (s.xmlPath ? [s.xmlPath] : []));
  }

  /** Merge records a debug session reported (see FINDINGS_NOTIFICATION). */
  applyLive(params: FindingsParams): void {
    const key = `live:${params.session.id}`;
    let source = this.sources.get(key);
    if (!source || params.reset) {
      source = liveSource(key, params.session);
      this.sources.set(key, source);
    } else updateSession(source, params.session);
    for (const rec of params.records) {
      const at = source.records.findIndex((r) => r.unique === rec.unique);
      if (at >= 0) source.records[at] = rec;
      else source.records.push(rec);
    }
    this.changed();
  }

  /** Forget one live session, or everything (XML files reload when they next change). */
  clear(sessionId?: string): void {
    if (sessionId === undefined) this.sources.clear();
    else this.sources.delete(`live:${sessionId}`);
    this.changed();
  }

  /**
   * Every finding. A live session whose pid matches an XML file's is left out: the file is the
   * same run's complete record, and showing both would double every diagnostic.
   */
  all(): Finding[] {
    const xmlPids = new Set<number>();
    for (const s of this.sources.values()) if (s.xmlPath && s.pid !== undefined) xmlPids.add(s.pid);
    const out: Finding[] = [];
    for (const s of this.sources.values()) {
      if (s.sessionId !== undefined && s.pid !== undefined && xmlPids.has(s.pid)) continue;
      s.records.forEach((record, i) => {
        const f: Finding = { id: `${s.key}#${record.unique}`, source: s, record };
        const line = s.xmlLines[i];
        if (line !== undefined) f.xmlLine = line;
        out.push(f);
      });
    }
    return out;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function liveSource(key: string, session: LiveSessionInfo): Source {
  const s: Source = { key, label: session.name ?? 'debug session', sessionId: session.id, baseDirs: [], records: [], xmlLines: [] };
  updateSession(s, session);
  return s;
}

function updateSession(s: Source, session: LiveSessionInfo): void {
  if (session.name !== undefined) s.label = session.name;
  if (session.pid !== undefined) s.pid = session.pid;
  if (session.program !== undefined) s.program = session.program;
  if (session.args !== undefined) s.args = session.args;
  if (session.cwd !== undefined) {
    s.cwd = session.cwd;
    s.baseDirs = [session.cwd];
  }
}

/**
 * A `<fatal_signal>` as an error record, so that a crash shows where it happened. Its unique id is
 * negative: Valgrind's own ids are never negative.
 */
function fatalSignalRecord(sig: FatalSignalInfo, i: number): ErrorRecord {
  const rec: ErrorRecord = {
    unique: -1 - i,
    tid: sig.tid,
    kind: FATAL_SIGNAL_KIND,
    what: `Process terminating with default action of signal ${sig.signo} (${sig.signame})`,
    stack: sig.stack.map(protocolFrame),
    aux: [],
  };
  if (sig.threadName !== undefined) rec.threadName = sig.threadName;
  if (sig.event !== undefined) {
    // Valgrind's own wording: " Access not within mapped region at address 0x0".
    const where = sig.address === undefined ? '' : ` at address ${hexLower(sig.address)}`;
    rec.aux.push({ text: `${sig.event}${where}` });
  }
  return rec;
}

/**
 * The program an XML run executed, as an absolute path when possible: `<argv><exe>` is as typed
 * (`./leaky`), but frames name the loaded executable by absolute `<obj>` path.
 */
function resolveProgram(exe: string, records: ErrorRecord[], dir: string): string {
  if (path.isAbsolute(exe)) return exe;
  const base = path.basename(exe);
  for (const r of records) {
    for (const f of [...r.stack, ...r.aux.flatMap((a) => a.stack ?? [])]) {
      if (f.obj && path.isAbsolute(f.obj) && path.basename(f.obj) === base) return f.obj;
    }
  }
  const near = path.resolve(dir, exe);
  return fs.existsSync(near) ? near : exe;
}
