/**
 * Live findings: a DebugAdapterTracker on every `unigrind` debug session picks the error records
 * the adapter reports — the custom DAP event `unigrind.error`, or an `output` event carrying the
 * same body under `data.unigrindError` — and forwards them, batched, to the language server as
 * `unigrind/findings` notifications, so diagnostics appear while the program runs.
 */
import type * as vscode from 'vscode';
import {
  DAP_ERROR_EVENT,
  FINDINGS_NOTIFICATION,
  OUTPUT_EVENT_DATA_KEY,
  type DapErrorEventBody,
  type ErrorRecord,
  type FindingsParams,
  type LiveSessionInfo,
} from '../../server/protocol';

/** Send at most this often per session: errors can come in bursts of thousands. */
const BATCH_MS = 150;

/** Where forwarded findings go (the language client) and who wants to count them. */
export interface FindingsSink {
  notify(method: string, params: FindingsParams): Promise<void>;
  /** Called for every record, e.g. to update a progress message. */
  counted(sessionId: string, record: ErrorRecord): void;
}

/** The error record of a DAP message, if it carries one. */
export function recordOf(message: unknown): { record: ErrorRecord; pid?: number } | undefined {
  const m = message as { type?: string; event?: string; body?: Record<string, unknown> } | undefined;
  if (m?.type !== 'event' || !m.body) return undefined;
  let body: Partial<DapErrorEventBody> | undefined;
  if (m.event === DAP_ERROR_EVENT) body = m.body as Partial<DapErrorEventBody>;
  else if (m.event === 'output') body = (m.body.data as Record<string, unknown> | undefined)?.[OUTPUT_EVENT_DATA_KEY] as Partial<DapErrorEventBody> | undefined;
  const rec = body?.record;
  if (!rec || typeof rec.kind !== 'string' || typeof rec.unique !== 'number' || !Array.isArray(rec.stack)) return undefined;
  const out: { record: ErrorRecord; pid?: number } = { record: { ...rec, aux: Array.isArray(rec.aux) ? rec.aux : [], what: rec.what ?? '' } };
  if (typeof body?.pid === 'number') out.pid = body.pid;
  return out;
}

/** The launch configuration's facts the server uses to offer a re-run. */
export function sessionInfo(session: vscode.DebugSession): LiveSessionInfo {
  const c = session.configuration as { program?: unknown; args?: unknown; cwd?: unknown };
  const info: LiveSessionInfo = { id: session.id, name: session.name };
  if (typeof c.program === 'string') info.program = c.program;
  if (Array.isArray(c.args)) info.args = c.args.filter((a): a is string => typeof a === 'string');
  if (typeof c.cwd === 'string') info.cwd = c.cwd;
  return info;
}

/** Tracks one session. */
export class FindingsTracker implements vscode.DebugAdapterTracker {
  private readonly info: LiveSessionInfo;
  private pending: ErrorRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sentReset = false;

  constructor(session: vscode.DebugSession, private readonly sink: FindingsSink) {
    this.info = sessionInfo(session);
  }

  onWillStartSession(): void {
    // Findings of an earlier run of this session id (a restart) are obsolete.
    this.flush(true);
  }

  onDidSendMessage(message: unknown): void {
    const m = message as { type?: string; event?: string; body?: { systemProcessId?: unknown } };
    if (m.type === 'event' && m.event === 'process' && typeof m.body?.systemProcessId === 'number') {
      this.info.pid = m.body.systemProcessId;
    }
    const found = recordOf(message);
    if (!found) return;
    if (found.pid !== undefined) this.info.pid = found.pid;
    this.pending.push(found.record);
    this.sink.counted(this.info.id, found.record);
    this.timer ??= setTimeout(() => this.flush(false), BATCH_MS);
  }

  onWillStopSession(): void {
    this.flush(false);
  }

  onExit(): void {
    this.flush(false);
  }

  private flush(reset: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!reset && this.pending.length === 0 && this.sentReset) return;
    const params: FindingsParams = { session: { ...this.info }, records: this.pending, reset: reset || !this.sentReset };
    this.sentReset = true;
    this.pending = [];
    void this.sink.notify(FINDINGS_NOTIFICATION, params);
  }
}
