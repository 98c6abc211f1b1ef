/**
 * The language server over stdio, as an editor drives it, on XML written by the real Valgrind for
 * gcc/g++-built fixtures: diagnostics, inlay hints, code lenses, hovers, code actions, the
 * suppression file (checked by running Valgrind with it), live findings, settings, watching.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, CodeLens, Diagnostic, Hover, InlayHint, MarkupContent } from 'vscode-languageserver-protocol';
import { ADD_SUPPRESSION_COMMAND, CLEAR_FINDINGS_NOTIFICATION, FINDINGS_NOTIFICATION, LOAD_XML_REQUEST, RERUN_TRACK_ORIGINS_COMMAND, SHOW_FINDINGS_COMMAND, type FindingsParams, type LoadXmlResult, type RerunArgs, type ShowFindingsArgs } from '../../../server/protocol';
import { errorsInXml, makeWorkspace, runValgrind, type Workspace } from './support/fixture';
import { BARE, TestClient, uri } from './support/lsp-client';

/** (file, 1-based line, kind) of every diagnostic the client holds for the files. */
function seen(client: TestClient, files: string[]): string[] {
  return files.flatMap((f) => client.diagnosticsOf(f).map((d) => `${path.basename(f)}:${d.range.start.line + 1}:${String(d.code)}`)).sort();
}

function find(client: TestClient, file: string, kind: string): Diagnostic {
  const d = client.diagnosticsOf(file).find((x) => x.code === kind);
  assert.ok(d, `no ${kind} diagnostic in ${path.basename(file)}`);
  return d;
}

describe('language server protocol, VS Code-like client', () => {
  let ws: Workspace;
  let client: TestClient;
  let leakyXml: string;
  let widgetXml: string;
  let files: string[];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-rerun-'));

  before(async () => {
    ws = makeWorkspace();
    leakyXml = runValgrind(ws.programs.leaky as string, path.join(ws.dir, 'reports', 'leaky.xml'));
    widgetXml = runValgrind(ws.programs.widget as string, path.join(ws.dir, 'reports', 'widget.xml'));
    // An XML file that is not Valgrind's must be ignored.
    fs.writeFileSync(path.join(ws.dir, 'reports', 'pom.xml'), '<?xml version="1.0"?>\n<project><error><kind>InvalidRead</kind></error></project>\n');
    files = ['leaky.c', 'pool.c', 'widget.cpp'].map((f) => path.join(ws.dir, f));
    client = new TestClient({});
    await client.start(ws.dir);
    await client.waitFor('diagnostics of the three sources', () => files.every((f) => client.diagnosticsOf(f).length > 0));
  });

  after(async () => {
    await client.stop();
    ws.remove();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('publishes each workspace error on the line of its first workspace frame', () => {
    const fromXml = [...errorsInXml(leakyXml, ws.dir), ...errorsInXml(widgetXml, ws.dir)]
      .filter((e) => e.file !== undefined)
      .map((e) => `${path.basename(e.file as string)}:${e.line}:${e.kind}`)
      .sort();
    const fromMarkers = ws.expectations.map((e) => `${path.basename(e.file)}:${e.line}:${e.kind}`).sort();
    assert.deepEqual(fromXml, fromMarkers, 'the fixtures and Valgrind disagree: fix the expect: markers');
    assert.deepEqual(seen(client, files), fromXml);
  });

  it('hides the error that lies wholly outside the workspace', () => {
    assert.ok(errorsInXml(leakyXml, ws.dir).some((e) => e.kind === 'SyscallParam' && e.file === undefined));
    for (const [, list] of client.diagnostics) assert.ok(!list.some((d) => d.code === 'SyscallParam'));
  });

  it('grades severity by kind and links the manual', () => {
    const leaky = files[0] as string;
    const sev = (kind: string, file = leaky): number | undefined => find(client, file, kind).severity;
    assert.equal(sev('InvalidWrite'), 1);
    assert.equal(sev('UninitCondition'), 2);
    assert.equal(sev('Leak_DefinitelyLost'), 2);
    assert.equal(sev('Leak_IndirectlyLost'), 3);
    assert.equal(sev('Leak_PossiblyLost', files[1]), 3);
    assert.equal(sev('Leak_StillReachable'), 4);
    const d = find(client, leaky, 'InvalidWrite');
    assert.equal(d.source, 'memcheck');
    assert.equal(d.codeDescription?.href, 'https://valgrind.org/docs/manual/mc-manual.html#mc-manual.badrw');
    assert.match(d.message, /^Invalid write of size 1\nAddress 0x[0-9a-f]+ is 0 bytes after a block of size 16 alloc'd$/);
    assert.equal(d.range.start.character, 2); // the statement, not the indentation
  });

  it('lists the rest of the stack and the allocation stack as related information', () => {
    const d = find(client, files[0] as string, 'InvalidWrite');
    const related = (d.relatedInformation ?? []).map((r) => `${path.basename(new URL(r.location.uri).pathname)}:${r.location.range.start.line + 1} ${r.message}`);
    assert.deepEqual(related, [
      'leaky.c:33 by main (leaky.c:33)',
      "leaky.c:16 Address " + /Address (0x[0-9a-f]+)/.exec(d.message)![1] + " is 0 bytes after a block of size 16 alloc'd: by overflow (leaky.c:16)",
      'leaky.c:33 by main (leaky.c:33)',
    ]);
  });

  it('annotates allocation sites with leak sizes', async () => {
    const hints = async (file: string): Promise<InlayHint[]> =>
      client.connection.sendRequest('textDocument/inlayHint', { textDocument: { uri: uri(file) }, range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } } });
    const pool = await hints(files[1] as string);
    assert.deepEqual(pool.map((h) => [h.position.line + 1, h.label]), [[6, '90,112 bytes possibly lost in 1 block']]);
    const leaky = await hints(files[0] as string);
    assert.deepEqual(
      leaky.map((h) => [h.position.line + 1, h.label]),
      [
        [35, '32 (16 direct, 16 indirect) bytes definitely lost in 1 block'],
        [36, '16 bytes indirectly lost in 1 block'],
        [39, '7 bytes still reachable in 1 block'],
      ],
    );
    // Line 40 calls pool_block(): that leak belongs to pool.c, its first workspace frame.
    const line35 = fs.readFileSync(files[0] as string, 'utf8').split('\n')[34] as string;
    assert.equal(leaky[0]!.position.character, line35.length);
  });

  it('puts a code lens with the counts on each function', async () => {
    const lenses: CodeLens[] = await client.connection.sendRequest('textDocument/codeLens', { textDocument: { uri: uri(files[0] as string) } });
    const lines = fs.readFileSync(files[0] as string, 'utf8').split('\n');
    const got = lenses.map((l) => [lines[l.range.start.line], l.command?.title]);
    assert.deepEqual(got, [
      ['static int overflow(void) {', 'memcheck: 1 invalid write'],
      ['static int branch_on_garbage(void) {', 'memcheck: 1 uninitialised condition'],
      ['int main(void) {', 'memcheck: leaks: 39 bytes in 3 records'],
    ]);
    const main = lenses[2]!.command!;
    assert.equal(main.command, SHOW_FINDINGS_COMMAND);
    const args = main.arguments?.[0] as ShowFindingsArgs;
    assert.deepEqual(args.locations.map((l) => l.line + 1), [35, 36, 39]);
    const cxx: CodeLens[] = await client.connection.sendRequest('textDocument/codeLens', { textDocument: { uri: uri(files[2] as string) } });
    const cxxLines = fs.readFileSync(files[2] as string, 'utf8').split('\n');
    assert.deepEqual(cxx.map((l) => cxxLines[l.range.start.line]!.trim().slice(0, 20)), ['explicit Widget(std:', 'int *grow(std::size_', 'int main() {']);
  });

  it('hovers with the full Valgrind text', async () => {
    const d = find(client, files[0] as string, 'InvalidWrite');
    const hover: Hover = await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: uri(files[0] as string) }, position: { line: d.range.start.line, character: 4 } });
    const value = (hover.contents as MarkupContent).value;
    const body = /```text\n([\s\S]*?)\n```/.exec(value)![1]!.split('\n');
    assert.equal(body[0], 'Invalid write of size 1');
    assert.match(body[1]!, /^ {3}at 0x[0-9A-F]+: overflow \(leaky\.c:17\)$/);
    assert.match(body[2]!, /^ {3}by 0x[0-9A-F]+: main \(leaky\.c:33\)$/);
    assert.match(body[3]!, /^ Address 0x[0-9a-f]+ is 0 bytes after a block of size 16 alloc'd$/);
    assert.match(body[4]!, /^ {3}at 0x[0-9A-F]+: malloc \(in \/usr\/libexec\/valgrind\/vgpreload_memcheck-amd64-linux\.so\)$/);
    assert.match(value, /\[InvalidWrite\]\(https:\/\/valgrind\.org\/docs\/manual\/mc-manual\.html#mc-manual\.badrw\) — leaky\.xml/);
    const nothing = await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: uri(files[0] as string) }, position: { line: 0, character: 0 } });
    assert.equal(nothing, null);
  });

  it('offers a --track-origins re-run for an uninitialised value without origin', async () => {
    const d = find(client, files[0] as string, 'UninitCondition');
    const actions: CodeAction[] = await client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: uri(files[0] as string) }, range: d.range, context: { diagnostics: [d] } });
    const rerun = actions.find((a) => a.command?.command === RERUN_TRACK_ORIGINS_COMMAND);
    assert.ok(rerun, 'no re-run action');
    assert.deepEqual(rerun.command?.arguments?.[0] as RerunArgs, { program: ws.programs.leaky, args: [] });
    const write = find(client, files[0] as string, 'InvalidWrite');
    const none: CodeAction[] = await client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: uri(files[0] as string) }, range: write.range, context: { diagnostics: [write] } });
    assert.ok(!none.some((a) => a.command?.command === RERUN_TRACK_ORIGINS_COMMAND));
  });

  /** Apply the suppression action of a diagnostic; returns the entry's name. */
  async function suppress(file: string, kind: string, line: number): Promise<string> {
    const d = client.diagnosticsOf(file).find((x) => x.code === kind && x.range.start.line + 1 === line);
    assert.ok(d, `no ${kind} at ${path.basename(file)}:${line}`);
    const actions: CodeAction[] = await client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: uri(file) }, range: d.range, context: { diagnostics: [d] } });
    const add = actions.find((a) => a.command?.command === ADD_SUPPRESSION_COMMAND);
    assert.ok(add?.command, 'no suppression action');
    assert.deepEqual(add.diagnostics, [d]);
    const result = (await client.connection.sendRequest('workspace/executeCommand', { command: add.command.command, arguments: add.command.arguments })) as { name: string; uri: string };
    assert.equal(result.uri, uri(path.join(ws.dir, 'valgrind.supp')));
    await client.waitFor(`${kind} at line ${line} to go away`, () => !client.diagnosticsOf(file).some((x) => x.code === kind && x.range.start.line + 1 === line));
    return result.name;
  }

  /** Run Valgrind with the workspace's suppression file; the XML and the used suppressions. */
  function rerunSuppressed(program: string): { errors: ReturnType<typeof errorsInXml>; used: string[] } {
    const xml = runValgrind(program, path.join(scratch, `${path.basename(program)}-${Date.now()}.xml`), [`--suppressions=${path.join(ws.dir, 'valgrind.supp')}`]);
    const used = [...xml.matchAll(/<pair>\s*<count>\d+<\/count>\s*<name>(.*?)<\/name>/g)].map((m) => m[1] as string);
    return { errors: errorsInXml(xml, ws.dir), used };
  }

  it('writes a suppression that Valgrind honours, and hides what it matches', async () => {
    const name = await suppress(files[0] as string, 'InvalidWrite', 17);
    assert.equal(name, 'overflow-InvalidWrite');
    const supp = fs.readFileSync(path.join(ws.dir, 'valgrind.supp'), 'utf8');
    assert.match(supp, /\{\n {3}overflow-InvalidWrite\n {3}Memcheck:Addr1\n {3}fun:overflow\n {3}fun:main\n\}\n/);
    const again = rerunSuppressed(ws.programs.leaky as string);
    assert.ok(!again.errors.some((e) => e.kind === 'InvalidWrite'), 'Valgrind still reports the invalid write');
    assert.ok(again.errors.some((e) => e.kind === 'UninitCondition'), 'Valgrind suppressed more than it should');
    assert.deepEqual(again.used, ['overflow-InvalidWrite']);
    // The other diagnostics stay.
    assert.ok(client.diagnosticsOf(files[0] as string).some((d) => d.code === 'UninitCondition'));
  });

  it('writes C++ suppressions Valgrind matches against mangled names', async () => {
    const widget = files[2] as string;
    const name = await suppress(widget, 'Leak_DefinitelyLost', 11);
    assert.equal(name, 'gadgets::Widget::grow-Leak_DefinitelyLost');
    const supp = fs.readFileSync(path.join(ws.dir, 'valgrind.supp'), 'utf8');
    assert.match(supp, /Memcheck:Leak\n {3}match-leak-kinds: definite\n {3}fun:_Zna\*\n {3}fun:_Z\*7gadgets\*6Widget\*4grow\*\n {3}fun:main\n/);
    const again = rerunSuppressed(ws.programs.widget as string);
    const left = again.errors.map((e) => `${e.line}:${e.kind}`).sort();
    assert.deepEqual(left, ['10:Leak_IndirectlyLost', '19:Leak_DefinitelyLost']);
    assert.deepEqual(again.used, [name]);
    // The line-19 definite leak (operator new, not new[]) is still shown.
    assert.ok(client.diagnosticsOf(widget).some((d) => d.code === 'Leak_DefinitelyLost' && d.range.start.line + 1 === 19));
  });

  it('shows live findings pushed by the client, and clears them', async () => {
    const pool = files[1] as string;
    const params: FindingsParams = {
      session: { id: 'session-1', name: 'leaky (unigrind)', program: ws.programs.leaky as string, args: ['-v'], cwd: ws.dir },
      records: [{ unique: 0, kind: 'InvalidRead', what: 'Invalid read of size 8', stack: [{ fn: 'pool_block', dir: ws.dir, file: 'pool.c', line: 5 }], aux: [] }],
      reset: true,
    };
    await client.connection.sendNotification(FINDINGS_NOTIFICATION, params);
    await client.waitFor('the live finding', () => client.diagnosticsOf(pool).some((d) => d.code === 'InvalidRead'));
    assert.equal(find(client, pool, 'InvalidRead').range.start.line, 4);
    // A record sent again with the same unique replaces the first one.
    params.records = [{ ...params.records[0]!, count: 3 }];
    params.reset = false;
    await client.connection.sendNotification(FINDINGS_NOTIFICATION, params);
    await client.waitFor('the updated count', () => /\(3 times\)/.test(client.diagnosticsOf(pool).find((d) => d.code === 'InvalidRead')?.message ?? ''));
    assert.equal(client.diagnosticsOf(pool).filter((d) => d.code === 'InvalidRead').length, 1);
    await client.connection.sendNotification(CLEAR_FINDINGS_NOTIFICATION, { sessionId: 'session-1' });
    await client.waitFor('the live finding to go', () => !client.diagnosticsOf(pool).some((d) => d.code === 'InvalidRead'));
    assert.ok(client.diagnosticsOf(pool).some((d) => d.code === 'Leak_PossiblyLost'), 'clearing a session must keep the XML findings');
  });

  it('filters kinds and shows external errors on their XML line when asked', async () => {
    const leaky = files[0] as string;
    await client.setSettings({ diagnostics: { excludeKinds: ['Leak_*'], showExternal: true } });
    const xmlFile = path.join(ws.dir, 'reports', 'leaky.xml');
    await client.waitFor('the external error', () => client.diagnosticsOf(xmlFile).length > 0);
    assert.deepEqual(client.diagnosticsOf(leaky).map((d) => d.code).sort(), ['UninitCondition']);
    const ext = client.diagnosticsOf(xmlFile);
    assert.deepEqual(ext.map((d) => d.code), ['SyscallParam']);
    const lines = leakyXml.split('\n');
    assert.equal(lines[ext[0]!.range.start.line]!.trim(), '<error>');
    assert.equal(lines[ext[0]!.range.start.line + 3]!.trim(), '<kind>SyscallParam</kind>');
    await client.setSettings({});
    await client.waitFor('leaks to return and the external error to go', () => client.diagnosticsOf(leaky).some((d) => d.code === 'Leak_DefinitelyLost') && client.diagnosticsOf(xmlFile).length === 0);
  });

  it('registers file watchers and follows XML files as they change', async () => {
    assert.ok(client.requests.includes('client/registerCapability'));
    const widgetFile = path.join(ws.dir, 'reports', 'widget.xml');
    fs.rmSync(widgetFile);
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(widgetFile), type: 3 }] });
    await client.waitFor('widget.cpp diagnostics to go', () => client.diagnosticsOf(files[2] as string).length === 0);
    runValgrind(ws.programs.widget as string, widgetFile);
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(widgetFile), type: 1 }] });
    // The suppression written earlier still hides the grow() leak.
    await client.waitFor('widget.cpp diagnostics to return', () => client.diagnosticsOf(files[2] as string).length === 2);
  });

  it('loads an XML file from outside the workspace on request', async () => {
    const outside = path.join(scratch, 'elsewhere.xml');
    runValgrind(ws.programs.leaky as string, outside, ['--track-origins=yes']);
    const result: LoadXmlResult = await client.connection.sendRequest(LOAD_XML_REQUEST, { uri: uri(outside) });
    assert.equal(result.records, 7);
    // InvalidWrite is suppressed; with origins tracked, the exit_group error is no longer wholly
    // outside the workspace: its uninitialised value was created in overflow().
    assert.equal(result.shown, 6);
    await client.waitFor('the origin-tracked duplicate', () => client.diagnosticsOf(files[0] as string).filter((d) => d.code === 'UninitCondition').length === 2);
    const tracked = client.diagnosticsOf(files[0] as string).find((d) => d.code === 'UninitCondition' && /created by a heap allocation/.test(d.message));
    assert.ok(tracked, 'the origin line is part of the message');
    assert.ok(!(tracked.data as { rerun?: unknown }).rerun, 'no re-run offered when the origin is known');
  });
});

describe('language server protocol, client without file watching', () => {
  it('watches the workspace itself and reads XML files as Valgrind writes them', async () => {
    const ws = makeWorkspace('unigrind-bare-');
    const client = new TestClient();
    try {
      await client.start(ws.dir, BARE);
      const leaky = path.join(ws.dir, 'leaky.c');
      // Give the server time to scan the (XML-less) workspace and set up its watches.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(client.diagnosticsOf(leaky).length, 0);
      runValgrind(ws.programs.leaky as string, path.join(ws.dir, 'out', 'deep', 'run.xml'));
      await client.waitFor('diagnostics from the new XML file', () => client.diagnosticsOf(leaky).length === 5);
      assert.ok(!client.requests.includes('client/registerCapability'));
      assert.ok(!client.requests.includes('workspace/configuration'));
      fs.rmSync(path.join(ws.dir, 'out'), { recursive: true });
      await client.waitFor('diagnostics to go with the file', () => client.diagnosticsOf(leaky).length === 0);
    } finally {
      await client.stop();
      ws.remove();
    }
  });
});
