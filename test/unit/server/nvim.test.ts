/**
 * A second, independent client: headless Neovim (Debian's `neovim`, 0.7) starts unigrind-lsp with
 * its built-in LSP client on a workspace with real Valgrind XML. What Neovim received must equal
 * what the protocol-level test client received from the same workspace. Neovim 0.7 cannot watch
 * files for the server, so this also covers the server's own watcher path.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, makeWorkspace, runValgrind, type Workspace } from './support/fixture';
import { SERVER_MAIN, TestClient } from './support/lsp-client';

interface Seen {
  file: string;
  line: number;
  code: string;
  severity: number;
  message: string;
}

interface NvimResult {
  error?: string;
  waited: boolean;
  diagnostics: (Seen & { source: string })[];
  hover: string;
  actions: string[];
  version: string;
}

const key = (d: Seen): string => `${d.file}:${d.line}:${d.code}:${d.severity}:${d.message}`;

describe('Neovim built-in LSP client', () => {
  let ws: Workspace;
  let reference: Seen[];

  before(async () => {
    const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
    if (nvim.error) throw new Error('nvim not found: install Debian\'s neovim package (apt-get install -y neovim)');
    ws = makeWorkspace('unigrind-nvim-');
    runValgrind(ws.programs.leaky as string, path.join(ws.dir, 'reports', 'leaky.xml'));
    runValgrind(ws.programs.widget as string, path.join(ws.dir, 'reports', 'widget.xml'));
    // What the protocol-level client sees on this workspace.
    const client = new TestClient({});
    try {
      await client.start(ws.dir);
      const sources = ['leaky.c', 'pool.c', 'widget.cpp'].map((f) => path.join(ws.dir, f));
      await client.waitFor('diagnostics', () => sources.every((f) => client.diagnosticsOf(f).length > 0));
      reference = sources.flatMap((file) =>
        client.diagnosticsOf(file).map((d) => ({ file, line: d.range.start.line + 1, code: String(d.code), severity: d.severity as number, message: d.message })),
      );
    } finally {
      await client.stop();
    }
  });
  after(() => ws.remove());

  it('receives the same diagnostics, hover and code actions', () => {
    const out = path.join(ws.dir, 'nvim-result.json');
    const invalidWrite = reference.find((d) => d.code === 'InvalidWrite');
    assert.ok(invalidWrite);
    const r = spawnSync('nvim', ['--headless', '--clean', '-c', `luafile ${path.join(FIXTURES, 'nvim-client.lua')}`], {
      env: {
        ...process.env,
        UNIGRIND_WS: ws.dir,
        UNIGRIND_SERVER: SERVER_MAIN,
        UNIGRIND_OUT: out,
        UNIGRIND_EXPECT: String(reference.length),
        UNIGRIND_HOVER_LINE: String(invalidWrite.line),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.ok(fs.existsSync(out), `nvim wrote no result (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(fs.readFileSync(out, 'utf8')) as NvimResult;
    assert.equal(result.error, undefined, result.error);
    assert.ok(result.waited, `nvim saw ${result.diagnostics.length} of ${reference.length} diagnostics`);
    assert.ok(result.diagnostics.every((d) => d.source === 'memcheck'));
    assert.deepEqual(result.diagnostics.map(key).sort(), reference.map(key).sort());
    assert.match(result.hover, /Invalid write of size 1\n {3}at 0x[0-9A-F]+: overflow \(leaky\.c:17\)/);
    assert.deepEqual(result.actions, ["Add suppression 'overflow-InvalidWrite' to valgrind.supp"]);
  });
});
