/**
 * End to end in a real VS Code: code-server 4.100.3 with the packaged extension (.vsix), shown
 * in Debian's Chromium driven by playwright-core. A gcc-built program with a heap overflow and a
 * leak runs under memcheck from a `unigrind` launch configuration; its errors must appear in the
 * Problems panel and its leak as an inlay hint on the allocation line. The screenshot taken at
 * the end is the README's picture (test/cache/e2e/screenshot.png, copied to
 * extension/media/screenshot.png).
 *
 * Not part of `npm test` (it needs Chromium and a 300 MB code-server): run `npm run e2e`. The
 * first run installs the tools into test/cache/e2e (several minutes, see install.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CodeServer } from './code-server';
import { CACHE, CHROMIUM, ensureInstalled } from './install';
import { loadPlaywright, type Browser, type Page } from './playwright';

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'server', 'e2e', 'squares.c');
const VSIX = path.join(CACHE, 'unigrind.vsix');
const SCREENSHOT = path.join(CACHE, 'screenshot.png');
const README_SCREENSHOT = path.join(ROOT, 'extension', 'media', 'screenshot.png');
/** The README's picture size. */
const VIEWPORT = { width: 1280, height: 800 };
/** The launch configuration's name, as the debug quick pick lists it. */
const CONFIG_NAME = 'Memcheck: squares';

/** 1-based line of the first fixture line containing `text`. */
function fixtureLine(text: string): number {
  const at = fs.readFileSync(FIXTURE, 'utf8').split('\n').findIndex((l) => l.includes(text));
  assert.ok(at >= 0, `no "${text}" in ${FIXTURE}`);
  return at + 1;
}

/** Progress on stderr: the run takes a while and a silent wait looks like a hang. */
const t0 = Date.now();
function log(line: string): void {
  process.stderr.write(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
}

/** Page-side expression: the text of an element, with the no-break spaces Monaco renders as spaces. */
const text = (el: string): string => `(${el}.textContent || '').replace(/\u00a0/g, ' ')`;
/** Page-side expression: the texts of the Problems panel's rows (markers and related locations). */
const PROBLEM_ROWS = `[...document.querySelectorAll('.markers-panel .monaco-list-row')].map((r) => ${text('r')})`;
/** Page-side expression: the text of the editor line that allocates the leaked block. */
const LEAK_LINE = `[...document.querySelectorAll('.monaco-editor .view-line')].map((l) => ${text('l')}).find((t) => t.includes('malloc(64)')) || ''`;

describe('VS Code end to end: code-server + Chromium', () => {
  const overflowLine = fixtureLine('values[i] = i * i');
  const leakLine = fixtureLine('malloc(64)');
  let tmp: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  /** Checks passed so far: the README's picture is replaced only by a run that passed them all. */
  let checks = 0;
  let passed = false;

  /** Pick an entry of a quick input (Ctrl+P): `text` typed, the row showing `row` chosen. */
  async function quickOpen(text: string, row: string): Promise<void> {
    await page.keyboard.press('Control+P');
    await page.waitForSelector('.quick-input-widget', { state: 'visible' });
    await page.keyboard.type(text);
    // Enter before the list has the row would pick nothing (or something else).
    await page.waitForSelector(`.quick-input-list .monaco-list-row >> text=${row}`, { timeout: 30_000 });
    await page.keyboard.press('Enter');
  }

  before(async () => {
    ensureInstalled(log);
    log('packaging the extension');
    const pack = spawnSync(process.execPath, [path.join(ROOT, 'extension', 'scripts', 'package.js'), '--out', VSIX], { encoding: 'utf8' });
    assert.equal(pack.status, 0, `npm run package failed:\n${pack.stdout}\n${pack.stderr}`);

    // realpath: the compiler records the directory with symlinks resolved (/tmp may be one).
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-e2e-')));
    const ws = path.join(tmp, 'squares');
    fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
    fs.copyFileSync(FIXTURE, path.join(ws, 'squares.c'));
    const cc = spawnSync('gcc', ['-g', '-O0', '-o', 'squares', 'squares.c'], { cwd: ws, encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const launch = {
      version: '0.2.0',
      configurations: [
        // stopOnError false: the run goes to the end, findings stream into the editor meanwhile.
        { type: 'unigrind', request: 'launch', name: CONFIG_NAME, program: '${workspaceFolder}/squares', cwd: '${workspaceFolder}', stopOnError: false, leakCheck: 'full' },
      ],
    };
    fs.writeFileSync(path.join(ws, '.vscode', 'launch.json'), `${JSON.stringify(launch, null, 2)}\n`);

    log('starting code-server');
    server = await CodeServer.start(path.join(tmp, 'code-server'), VSIX, ws);
    log(`code-server at ${server.url}; starting Chromium`);
    browser = await loadPlaywright(CACHE).chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in a container: Chromium's sandbox cannot start there.
      chromiumSandbox: false,
      // Chromium's own state (crash reports, settings) goes to the scratch folder, not $HOME.
      env: { ...process.env, XDG_CONFIG_HOME: path.join(tmp, 'chromium-config'), XDG_CACHE_HOME: path.join(tmp, 'chromium-cache') },
    });
    page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(server.folderUrl(ws), { timeout: 60_000 });
    await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
    log('workbench loaded');
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (passed) fs.rmSync(tmp, { recursive: true, force: true });
    else if (tmp) log(`kept ${tmp} for inspection; code-server said:\n${server?.log ?? ''}`);
  });

  it('opens the program source', async () => {
    await quickOpen('squares.c', 'squares.c');
    await page.waitForSelector('.monaco-editor .view-lines', { timeout: 30_000 });
    checks++;
  });

  it('runs the program from its unigrind launch configuration; the Problems panel shows both errors', async () => {
    await quickOpen(`debug ${CONFIG_NAME}`, CONFIG_NAME);
    log('debug session started');
    await page.keyboard.press('Control+Shift+M'); // View: Problems
    await page.waitForSelector('.markers-panel', { state: 'visible', timeout: 30_000 });
    await page.waitForFunction(`${PROBLEM_ROWS}.some((r) => r.includes('definitely lost'))`, undefined, { timeout: 120_000, polling: 250 });
    log('findings in the Problems panel');
    const rows = (await page.evaluate(PROBLEM_ROWS)) as string[];
    const overflow = rows.find((r) => r.includes('Invalid write of size 4'));
    assert.ok(overflow, `no invalid write among:\n${rows.join('\n')}`);
    assert.match(overflow, new RegExp(`memcheck.*InvalidWrite.*\\[Ln ${overflowLine}, Col \\d+\\]`));
    const leak = rows.find((r) => r.includes('64 bytes in 1 blocks are definitely lost'));
    assert.ok(leak, `no definite leak among:\n${rows.join('\n')}`);
    assert.match(leak, new RegExp(`memcheck.*Leak_DefinitelyLost.*\\[Ln ${leakLine}, Col \\d+\\]`));
    // The allocation stack of the overflowed block is related information.
    assert.ok(rows.some((r) => /is 0 bytes after a block of size 40 alloc'd: by squares \(squares\.c:7\)/.test(r)), rows.join('\n'));
    checks++;
  });

  it('annotates the leaking allocation with an inlay hint', async () => {
    // Monaco renders an inlay hint as injected text inside its line's DOM.
    await page.waitForFunction(`(${LEAK_LINE}).includes('64 bytes definitely lost in 1 block')`, undefined, { timeout: 60_000, polling: 250 });
    const line = (await page.evaluate(LEAK_LINE)) as string;
    assert.match(line, /char \*copy = malloc\(64\);\s*64 bytes definitely lost in 1 block/);
    checks++;
  });

  it('saves a screenshot of the diagnostics and the hint', async () => {
    // Wait for the session to end (no debug toolbar) and park the mouse where it opens no hover.
    await page.waitForSelector('.debug-toolbar', { state: 'hidden', timeout: 60_000 });
    await page.mouse.move(VIEWPORT.width - 5, VIEWPORT.height / 2);
    await new Promise((r) => setTimeout(r, 1000)); // let squiggles and code lenses settle
    await page.screenshot({ path: SCREENSHOT, type: 'png' });
    assert.equal(checks, 3, `an earlier check failed: ${SCREENSHOT} shows how the window looked; the README's picture is left alone`);
    const png = fs.readFileSync(SCREENSHOT);
    // PNG signature, then the IHDR chunk's width and height.
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [VIEWPORT.width, VIEWPORT.height]);
    fs.mkdirSync(path.dirname(README_SCREENSHOT), { recursive: true });
    fs.copyFileSync(SCREENSHOT, README_SCREENSHOT);
    log(`screenshot: ${SCREENSHOT} (${Math.round(png.length / 1024)} KiB), copied to ${path.relative(ROOT, README_SCREENSHOT)}`);
    passed = true;
  });
});
