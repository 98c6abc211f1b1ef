/**
 * A test cache of Debian 12's real Xen toolstack binaries (reference §9): downloads the .debs
 * with `apt-get download` into test/cache/xen/debs and unpacks them with `dpkg -x` into
 * test/cache/xen/root — never installing them. Idempotent: a stamp file records what was
 * unpacked, and a second call only checks it.
 *
 *   node dist/test/support/xen-packages.js --fetch     # fetch/unpack, print paths and timing
 *
 * From tests: `const x = ensureXenPackages();` then run
 *   LD_LIBRARY_PATH=<x.libDir> <x.xl> list
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The packages of reference §9.1: toolstack, libraries, xenstore tools, debug info, headers. */
export const XEN_PACKAGES = [
  'xen-utils-4.17', 'xen-utils-common', 'xenstore-utils', 'libxenmisc4.17', 'libxenstore4', 'libxencall1',
  'libxenforeignmemory1', 'libxendevicemodel1', 'libxenevtchn1', 'libxengnttab1', 'libxentoolcore1',
  'libxentoollog1', 'libxenhypfs1', 'libyajl2', 'xen-utils-4.17-dbg', 'libxen-dev',
] as const;

export interface XenPackagePaths {
  readonly cacheDir: string;
  readonly debs: string;
  readonly root: string;
  /** The real xl (/usr/sbin/xl is a shell wrapper that needs /sys/hypervisor). */
  readonly xl: string;
  /** LD_LIBRARY_PATH for the Xen libraries and libyajl. */
  readonly libDir: string;
  /** The xenstore multi-call binary and its hard links. */
  readonly xenstore: string;
  readonly xenstoreTools: Readonly<Record<string, string>>;
  /** Xen shared libraries by soname. */
  readonly libs: Readonly<Record<string, string>>;
  /** Detached debug info of xl (build-id addressed). */
  readonly debugDir: string;
  /** Package versions unpacked. */
  readonly versions: Readonly<Record<string, string>>;
}

function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('xen-packages: cannot find the repository root');
    d = up;
  }
  return d;
}

const STAMP = '.unpacked.json';

function paths(cacheDir: string, versions: Record<string, string>): XenPackagePaths {
  const root = join(cacheDir, 'root');
  const libDir = join(root, 'usr/lib/x86_64-linux-gnu');
  const libs: Record<string, string> = {};
  if (existsSync(libDir)) {
    for (const f of readdirSync(libDir)) if (/^lib(xen|xl|yajl)/.test(f) && /\.so\.\d+(\.\d+)*$/.test(f)) libs[f] = join(libDir, f);
  }
  const tools: Record<string, string> = {};
  for (const t of ['xenstore-ls', 'xenstore-read', 'xenstore-write', 'xenstore-list', 'xenstore-rm', 'xenstore-exists', 'xenstore-chmod', 'xenstore-watch']) {
    tools[t] = join(root, 'usr/bin', t);
  }
  return {
    cacheDir, debs: join(cacheDir, 'debs'), root,
    xl: join(root, 'usr/lib/xen-4.17/bin/xl'),
    libDir, xenstore: join(root, 'usr/bin/xenstore'), xenstoreTools: tools, libs,
    debugDir: join(root, 'usr/lib/debug'),
    versions,
  };
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The .deb file of a package in `dir`, if downloaded. */
function debOf(dir: string, pkg: string): string | undefined {
  const esc = pkg.replace(/[+.]/g, (c) => `\\${c}`);
  return readdirSync(dir).find((f) => new RegExp(`^${esc}_[^_]+_(amd64|all)\\.deb$`).test(f));
}

/**
 * Make sure the packages are downloaded and unpacked; returns their paths. Runs `apt-get update`
 * once if apt does not know the packages yet. Throws with apt's message when a download fails.
 */
export function ensureXenPackages(cacheDir = join(repoRoot(), 'test/cache/xen')): XenPackagePaths {
  const stampFile = join(cacheDir, 'root', STAMP);
  if (existsSync(stampFile)) {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { packages: string[]; versions: Record<string, string> };
    if (XEN_PACKAGES.every((p) => stamp.packages.includes(p))) return paths(cacheDir, stamp.versions);
  }
  const debs = join(cacheDir, 'debs');
  const root = join(cacheDir, 'root');
  mkdirSync(debs, { recursive: true });
  mkdirSync(root, { recursive: true });
  const missing = XEN_PACKAGES.filter((p) => !debOf(debs, p));
  if (missing.length) {
    try {
      run('apt-get', ['download', ...missing], debs);
    } catch {
      // Usually "Unable to locate package": the package lists are missing or stale.
      run('apt-get', ['update']);
      run('apt-get', ['download', ...missing], debs);
    }
  }
  const versions: Record<string, string> = {};
  for (const p of XEN_PACKAGES) {
    const f = debOf(debs, p);
    if (!f) throw new Error(`xen-packages: ${p} was not downloaded`);
    versions[p] = f.split('_')[1].replace(/%3a/g, ':');
    run('dpkg', ['-x', join(debs, f), root]);
  }
  writeFileSync(stampFile, JSON.stringify({ packages: XEN_PACKAGES, versions }, null, 1));
  return paths(cacheDir, versions);
}

// CLI, behind a flag: node's test runner executes every .js file under a test/ directory.
if (require.main === module && process.argv.includes('--fetch')) {
  const t0 = Date.now();
  const p = ensureXenPackages(process.argv[3] && process.argv[3] !== '--fetch' ? resolve(process.argv[3]) : undefined);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stdout.write(JSON.stringify({ seconds: Number(secs), ...p }, null, 1) + '\n');
}
