/**
 * The end-to-end test's tools, installed once into test/cache/e2e (never into the project's own
 * dependencies): code-server 4.100.3 — the last release that runs on Node 20 — and
 * playwright-core, which drives Debian's Chromium.
 *
 * A plain `npm install code-server` fails here three ways (its postinstall refuses root, native
 * modules need system headers, and @vscode/ripgrep downloads a binary from GitHub), so the steps
 * measured in the shared reference editors.md §7 are done one by one: install without scripts,
 * install VS Code's own dependencies without scripts, point @vscode/ripgrep at Debian's `rg`,
 * rebuild the native modules, then do by hand what code-server's postinstall.sh does. A marker file
 * records a finished installation; delete the folder to start again.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where the tools live (ignored by git). */
export const CACHE = path.resolve(__dirname, '../../../test/cache/e2e');
export const CODE_SERVER_VERSION = '4.100.3';
export const PLAYWRIGHT_VERSION = '1.65.1';
/** Debian's Chromium, as `apt-get install chromium` puts it. */
export const CHROMIUM = '/usr/bin/chromium';

/** The Debian packages the installation and the test need. */
const APT_PACKAGES = 'libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev pkg-config ripgrep chromium';

const MARKER = path.join(CACHE, `.installed-code-server-${CODE_SERVER_VERSION}-playwright-${PLAYWRIGHT_VERSION}`);

/** The code-server launcher in the cache. */
export const CODE_SERVER_BIN = path.join(CACHE, 'node_modules', '.bin', 'code-server');

/** Run a command; throw with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Symlink `link` → `target`, replacing whatever is there. */
function symlink(target: string, link: string): void {
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(target, link);
}

/** Missing system prerequisites, as a message; undefined when all are there. */
function missingSystemPackages(): string | undefined {
  const missing: string[] = [];
  if (!fs.existsSync(CHROMIUM)) missing.push('chromium');
  if (spawnSync('rg', ['--version']).status !== 0) missing.push('ripgrep');
  // Headers of the native modules (kerberos, keytar, native-keymap) that npm rebuild compiles.
  for (const pc of ['krb5-gssapi', 'libsecret-1', 'x11', 'xkbfile']) {
    if (spawnSync('pkg-config', ['--exists', pc]).status !== 0) missing.push(`${pc} (pkg-config)`);
  }
  if (missing.length === 0) return undefined;
  return `missing: ${missing.join(', ')} — run: apt-get install -y ${APT_PACKAGES}`;
}

/**
 * Make sure code-server and playwright-core are installed in the cache; a no-op once they are.
 * @param log progress lines (the first installation takes minutes)
 */
export function ensureInstalled(log: (line: string) => void): void {
  const problem = missingSystemPackages();
  if (problem) throw new Error(`end-to-end test prerequisites ${problem}`);
  if (fs.existsSync(MARKER)) return;
  const t0 = Date.now();
  const step = (what: string): void => log(`e2e install [${Math.round((Date.now() - t0) / 1000)}s]: ${what}`);
  fs.mkdirSync(CACHE, { recursive: true });
  const pkg = path.join(CACHE, 'package.json');
  if (!fs.existsSync(pkg)) {
    fs.writeFileSync(pkg, `${JSON.stringify({ name: 'unigrind-e2e-cache', private: true, description: 'Tools of the end-to-end test (test/e2e), not dependencies of the project' }, null, 2)}\n`);
  }
  const quiet = ['--no-audit', '--no-fund'];
  step(`npm install code-server@${CODE_SERVER_VERSION} playwright-core@${PLAYWRIGHT_VERSION}`);
  run('npm', ['install', `code-server@${CODE_SERVER_VERSION}`, `playwright-core@${PLAYWRIGHT_VERSION}`, '--ignore-scripts', ...quiet], CACHE);

  const vscode = path.join(CACHE, 'node_modules', 'code-server', 'lib', 'vscode');
  step('VS Code dependencies');
  run('npm', ['install', '--omit=dev', '--ignore-scripts', ...quiet], vscode);
  // @vscode/ripgrep's postinstall would download rg; it stops early when bin/ exists.
  const rgBin = path.join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin');
  fs.mkdirSync(rgBin, { recursive: true });
  symlink(run('sh', ['-c', 'command -v rg'], CACHE).trim(), path.join(rgBin, 'rg'));
  step('native modules of VS Code (node-pty, kerberos, native-keymap, …)');
  // node-gyp is fetched through npx, which would otherwise ask before installing it.
  run('npm', ['rebuild'], vscode, { npm_config_yes: 'true' });

  step("code-server's postinstall, by hand");
  symlink('node_modules', path.join(vscode, 'node_modules.asar'));
  symlink('code-linux.sh', path.join(vscode, 'bin', 'remote-cli', 'code-server'));
  symlink('browser-linux.sh', path.join(vscode, 'bin', 'helpers', 'browser.sh'));
  run('npm', ['install', '--omit=dev', ...quiet], path.join(vscode, 'extensions'));
  step('argon2 (password hashing; built from source)');
  run('npm', ['rebuild', 'argon2'], CACHE, { npm_config_yes: 'true' });

  // Any code-server run writes a default config file under $XDG_CONFIG_HOME: keep it in the cache.
  const version = run(CODE_SERVER_BIN, ['--version'], CACHE, { XDG_CONFIG_HOME: path.join(CACHE, 'config') });
  if (!version.includes(CODE_SERVER_VERSION)) throw new Error(`code-server --version says: ${version}`);
  fs.writeFileSync(MARKER, version);
  step(`done: ${version.trim().split('\n').pop() ?? ''}`);
}
