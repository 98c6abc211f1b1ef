/**
 * The .vsix built by extension/scripts/package.js: its manifest's entry points are inside it, the
 * runtime dependencies of the engine, adapter, server and extension resolve from where the code
 * sits, and the packaged language server serves a workspace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeWorkspace, runValgrind, type Workspace } from './support/fixture';
import { TestClient } from './support/lsp-client';

const ROOT = path.resolve(__dirname, '../../../..');
const SCRIPT = path.join(ROOT, 'extension', 'scripts', 'package.js');

/** The directory Node's lookup finds for a package, walking up from `dir` (exports ignored). */
function packageDir(dir: string, name: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

describe('the .vsix package', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-vsix-test-'));
  const unpacked = path.join(tmp, 'x');
  let manifest: { main: string; dependencies: Record<string, string>; contributes: { debuggers: { type: string; program: string }[] } };
  let ws: Workspace;

  before(() => {
    // Parts other engineers have not built yet may be missing; what is built must be packaged.
    const absent = [['adapter', 'adapter/main.js'], ['engine', 'engine']].filter(([, rel]) => !fs.existsSync(path.join(ROOT, 'dist', rel as string))).map(([n]) => n);
    const vsix = path.join(tmp, 'unigrind.vsix');
    const args = [SCRIPT, '--out', vsix, ...(absent.length > 0 ? ['--allow-missing', absent.join(',')] : [])];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `packaging failed:\n${r.stdout}\n${r.stderr}`);
    const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', vsix, unpacked], { encoding: 'utf8' });
    assert.equal(unzip.status, 0, unzip.stderr);
    manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'extension', 'package.json'), 'utf8'));
    ws = makeWorkspace('unigrind-vsix-ws-');
  });
  after(() => {
    ws.remove();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('contains the files the manifest names', () => {
    const ext = path.join(unpacked, 'extension');
    assert.ok(fs.existsSync(path.join(ext, manifest.main)), manifest.main);
    assert.ok(fs.existsSync(path.join(ext, 'dist', 'server', 'main.js')));
    // Data files tsc does not copy, found beside the compiled modules at run time.
    if (fs.existsSync(path.join(ROOT, 'dist', 'engine'))) assert.ok(fs.existsSync(path.join(ext, 'dist', 'engine', 'errors', 'default.supp')), 'default.supp is missing');
    const debuggerDecl = manifest.contributes.debuggers.find((d) => d.type === 'unigrind');
    assert.equal(debuggerDecl?.program, './dist/adapter/main.js');
    if (fs.existsSync(path.join(ROOT, 'dist', 'adapter', 'main.js'))) assert.ok(fs.existsSync(path.join(ext, debuggerDecl.program)));
    assert.ok(!fs.existsSync(path.join(ext, 'dist', 'test')), 'tests must not be shipped');
    assert.ok(!fs.existsSync(path.join(ext, 'node_modules', 'typescript')), 'dev dependencies must not be shipped');
    assert.ok(!fs.existsSync(path.join(ext, 'node_modules', '@vscode', 'vsce')), 'build tools must not be shipped');
  });

  it('resolves every runtime dependency from the packaged code', () => {
    const rootDeps = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    const extDeps = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'extension', 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), [...rootDeps, ...extDeps].sort());
    const serverDir = path.join(unpacked, 'extension', 'dist', 'server');
    for (const dep of [...rootDeps, ...extDeps]) {
      const dir = packageDir(serverDir, dep);
      assert.equal(dir, path.join(unpacked, 'extension', 'node_modules', dep), `${dep} is not where Node will look for it`);
    }
    const from = createRequire(path.join(serverDir, 'main.js'));
    // Transitive ones too: the language client's own dependency tree.
    const client = createRequire(from.resolve('vscode-languageclient/node'));
    assert.ok(client.resolve('minimatch').startsWith(unpacked));
  });

  it('runs the packaged language server', async () => {
    runValgrind(ws.programs.leaky as string, path.join(ws.dir, 'leaky.xml'));
    const client = new TestClient({}, path.join(unpacked, 'extension', 'dist', 'server', 'main.js'));
    try {
      await client.start(ws.dir);
      const leaky = path.join(ws.dir, 'leaky.c');
      await client.waitFor('diagnostics from the packaged server', () => client.diagnosticsOf(leaky).length === 5);
    } finally {
      await client.stop();
    }
  });
});
