/**
 * The adapter → extension → server path for live findings, without VS Code: DAP messages as an
 * adapter sends them go through the extension's DebugAdapterTracker, whose notifications are
 * forwarded to a real language server.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { FindingsTracker, recordOf } from '../../../extension/src/live-findings';
import { DAP_ERROR_EVENT, FINDINGS_NOTIFICATION, OUTPUT_EVENT_DATA_KEY, type ErrorRecord, type FindingsParams } from '../../../server/protocol';
import { makeWorkspace, type Workspace } from './support/fixture';
import { TestClient } from './support/lsp-client';

describe('live findings from a debug session', () => {
  let ws: Workspace;
  let client: TestClient;
  const sent: FindingsParams[] = [];
  const counted: string[] = [];

  const record = (unique: number, kind: string, line: number, extra: Partial<ErrorRecord> = {}): ErrorRecord => ({
    unique,
    kind,
    what: kind === 'InvalidRead' ? 'Invalid read of size 4' : '16 bytes in 1 blocks are definitely lost in loss record 1 of 1',
    stack: [{ ip: 0x401000, fn: 'main', dir: ws.dir, file: 'leaky.c', line }],
    aux: [],
    ...extra,
  });

  before(async () => {
    ws = makeWorkspace('unigrind-live-');
    client = new TestClient({});
    await client.start(ws.dir);
  });
  after(async () => {
    await client.stop();
    ws.remove();
  });

  it('recognises the custom event and the output-event form, and nothing else', () => {
    const rec = record(1, 'InvalidRead', 20);
    assert.deepEqual(recordOf({ type: 'event', event: DAP_ERROR_EVENT, body: { record: rec, pid: 42 } }), { record: rec, pid: 42 });
    assert.deepEqual(recordOf({ type: 'event', event: 'output', body: { category: 'stderr', output: 'Invalid read', data: { [OUTPUT_EVENT_DATA_KEY]: { record: rec } } } }), { record: rec });
    assert.equal(recordOf({ type: 'event', event: 'output', body: { output: 'hello\n' } }), undefined);
    assert.equal(recordOf({ type: 'event', event: DAP_ERROR_EVENT, body: { record: { kind: 'InvalidRead' } } }), undefined);
    assert.equal(recordOf({ type: 'response', command: 'threads', body: {} }), undefined);
  });

  it('forwards records in batches to the server, which shows them at once', async () => {
    const session = { id: 'dbg-7', name: 'leaky', configuration: { type: 'unigrind', program: ws.programs.leaky, args: ['x'], cwd: ws.dir } } as unknown as vscode.DebugSession;
    const tracker = new FindingsTracker(session, {
      notify: async (method, params) => {
        assert.equal(method, FINDINGS_NOTIFICATION);
        sent.push(JSON.parse(JSON.stringify(params)) as FindingsParams);
        await client.connection.sendNotification(method, params);
      },
      counted: (id, rec) => counted.push(`${id}:${rec.kind}`),
    });
    tracker.onWillStartSession();
    tracker.onDidSendMessage({ type: 'event', event: 'process', body: { name: 'leaky', systemProcessId: 4321 } });
    tracker.onDidSendMessage({ type: 'event', event: DAP_ERROR_EVENT, body: { record: record(0, 'InvalidRead', 17) } });
    tracker.onDidSendMessage({ type: 'event', event: 'output', body: { output: 'x', data: { [OUTPUT_EVENT_DATA_KEY]: { record: record(1, 'Leak_DefinitelyLost', 35, { leakedBytes: 16, leakedBlocks: 1 }) } } } });
    const leaky = path.join(ws.dir, 'leaky.c');
    await client.waitFor('live diagnostics', () => client.diagnosticsOf(leaky).length === 2);
    assert.deepEqual(client.diagnosticsOf(leaky).map((d) => `${d.range.start.line + 1}:${String(d.code)}`).sort(), ['17:InvalidRead', '35:Leak_DefinitelyLost']);
    assert.deepEqual(counted, ['dbg-7:InvalidRead', 'dbg-7:Leak_DefinitelyLost']);
    // One reset at start, then one batch with both records and the pid of the process event.
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[0], { session: { id: 'dbg-7', name: 'leaky', program: ws.programs.leaky, args: ['x'], cwd: ws.dir }, records: [], reset: true });
    assert.equal(sent[1]!.reset, false);
    assert.equal(sent[1]!.session.pid, 4321);
    assert.deepEqual(sent[1]!.records.map((r) => r.unique), [0, 1]);
    // A restart of the same session replaces its findings.
    tracker.onWillStartSession();
    await client.waitFor('the restart to clear them', () => client.diagnosticsOf(leaky).length === 0);
    tracker.onExit();
  });
});
