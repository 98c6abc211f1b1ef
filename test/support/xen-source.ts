/**
 * Builds `xl` and the Xen tool libraries from Debian bookworm's own xen source, with a patch, into
 * test/cache/xen-src (reference §9.4) — for the seed test (test/integration/xen-seed.test.ts).
 *
 * Setup (as root; each step only when needed):
 *   1. a `deb-src` entry for bookworm in /etc/apt/sources.list.d/unigrind-deb-src.sources when no
 *      sources list has one, then `apt-get update`;
 *   2. the build dependencies, with `apt-get install`: BUILD_PACKAGES below;
 *   3. `apt-get source xen` into test/cache/xen-src (Debian's patches applied by dpkg-source).
 * Build (in test/cache/xen-src/build-<name>, a copy of the source with the patch applied):
 * config.guess/config.sub from autoconf (Debian deletes them), `autoconf -f` (the tarball has no
 * configure), configure with the tools-only options of reference §9.4, then
 * `make -C tools subdir-all-include subdir-all-libs subdir-all-xl debug_symbols=y` (DWARF for
 * every library and xl, so stacks show file:line). A stamp records the source version, the
 * patch and the timings; a second call with the same patch only checks it.
 *
 * Run through its test: `npm run test:xen-seed`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';

/**
 * Debian packages the build needs: autoconf (the tarball ships no configure), acpica-tools (iasl,
 * required on x86), libyajl-dev, uuid-dev, libncurses-dev, python3-dev, zlib1g-dev (configure's
 * checks), dpkg-dev (dpkg-source, for apt-get source), and the compiler and tools.
 */
export const BUILD_PACKAGES = [
  'autoconf', 'acpica-tools', 'libyajl-dev', 'uuid-dev', 'libncurses-dev', 'python3-dev', 'zlib1g-dev',
  'dpkg-dev', 'gcc', 'make', 'pkg-config', 'perl', 'xz-utils',
] as const;

/** The configure options of reference §9.4: only the tools, no hypervisor, firmware or docs. */
export const CONFIGURE_OPTIONS = [
  '--prefix=/usr', '--disable-docs', '--disable-stubdom', '--disable-qemu-traditional',
  '--with-system-qemu=/usr/bin/qemu-system-i386', '--disable-ocamltools', '--disable-seabios', '--disable-rombios',
  '--disable-ipxe', '--disable-pvshim', '--disable-xen',
] as const;

const DEB_SRC_FILE = '/etc/apt/sources.list.d/unigrind-deb-src.sources';

/** A change to the source tree: `apply(root)` edits files under it and throws if it cannot. */
export interface SourcePatch {
  /** Names the build directory (build-<name>) and enters the stamp. */
  readonly name: string;
  /** Hashed into the stamp: a different description rebuilds. */
  readonly description: string;
  apply(root: string): void;
}

/** Replaces exactly one occurrence of `from` in `file` (relative to the source root). */
export function replaceOnce(root: string, file: string, from: string, to: string): void {
  const p = join(root, file);
  const text = readFileSync(p, 'utf8');
  const n = text.split(from).length - 1;
  if (n !== 1) throw new Error(`xen-source: expected one occurrence in ${file}, found ${n}:\n${from}`);
  writeFileSync(p, text.replace(from, to));
}

export interface XenBuild {
  /** Debian's source version (e.g. 4.17.5+72-g01140da4e8-1). */
  readonly version: string;
  /** The unpatched source tree as apt-get source left it. */
  readonly srcDir: string;
  /** The patched, built tree. */
  readonly buildDir: string;
  /** The built, unstripped xl. */
  readonly xl: string;
  /** LD_LIBRARY_PATH: every library directory under tools/libs. */
  readonly libPath: string;
  /** Seconds per step of the build that produced it (setup, copy, configure, make). */
  readonly seconds: Readonly<Record<string, number>>;
  /** True when this call only checked an earlier build. */
  readonly cached: boolean;
}

function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('xen-source: cannot find the repository root');
    d = up;
  }
  return d;
}

type Log = (line: string) => void;

function sh(log: Log, cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  log(`$ ${opts.cwd ? `(cd ${opts.cwd}) ` : ''}${cmd} ${args.join(' ')}`);
  try {
    return execFileSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 << 20 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    const tail = (s = ''): string => s.split('\n').slice(-40).join('\n');
    throw new Error(`xen-source: ${cmd} ${args.join(' ')} failed\n${tail(err.stdout)}\n${tail(err.stderr) || err.message}`);
  }
}

function timed<T>(seconds: Record<string, number>, step: string, f: () => T): T {
  const t0 = Date.now();
  try {
    return f();
  } finally {
    seconds[step] = Math.round((Date.now() - t0) / 100) / 10;
  }
}

const isRoot = (): boolean => process.getuid?.() === 0;

function installed(pkg: string): boolean {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) === 'install ok installed';
  } catch {
    return false;
  }
}

/** A deb-src line (one-line or deb822 format) for bookworm in any apt source list. */
function hasBookwormDebSrc(): boolean {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d')) if (/\.(list|sources)$/.test(f)) files.push(join('/etc/apt/sources.list.d', f));
  } catch { /* no directory */ }
  for (const f of files) {
    let text: string;
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    if (/^\s*deb-src\s+\S+\s+bookworm\s/m.test(text)) return true;
    // deb822: a stanza whose Types include deb-src and whose Suites include bookworm.
    for (const stanza of text.split(/\n\s*\n/)) {
      if (/^Types:.*\bdeb-src\b/mi.test(stanza) && /^Suites:.*\bbookworm\b(?!-)/mi.test(stanza) && !/^Enabled:\s*no/mi.test(stanza)) return true;
    }
  }
  return false;
}

/** Steps 1–3: deb-src entry, build dependencies, the unpacked source. Returns the source dir. */
/** The source tree apt-get source left in cacheDir, with Debian's version, if any. */
function unpackedSource(cacheDir: string): { srcDir: string; version: string } | undefined {
  const dir = existsSync(cacheDir) ? readdirSync(cacheDir).find((f) => /^xen-\d/.test(f) && existsSync(join(cacheDir, f, 'tools/xl/xl.c'))) : undefined;
  if (!dir) return undefined;
  const dsc = readdirSync(cacheDir).find((f) => /^xen_.*\.dsc$/.test(f));
  return { srcDir: join(cacheDir, dir), version: dsc ? dsc.replace(/^xen_/, '').replace(/\.dsc$/, '') : dir.replace(/^xen-/, '') };
}

function setup(cacheDir: string, log: Log): { srcDir: string; version: string } {
  const existing = unpackedSource(cacheDir) !== undefined;
  const missing = BUILD_PACKAGES.filter((p) => !installed(p));
  if ((missing.length || !existing) && !isRoot()) {
    throw new Error(`xen-source: needs root for apt-get (missing packages: ${missing.join(' ') || 'none'}; source unpacked: ${existing ? 'yes' : 'no'})`);
  }
  let updated = false;
  if (!existing && !hasBookwormDebSrc()) {
    log(`adding ${DEB_SRC_FILE}`);
    writeFileSync(DEB_SRC_FILE, [
      "# Added by unigrind's test/support/xen-source.ts: Debian's xen source for the seed test (apt-get source xen).",
      'Types: deb-src', 'URIs: http://deb.debian.org/debian', 'Suites: bookworm', 'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg', '',
    ].join('\n'));
    sh(log, 'apt-get', ['update']);
    updated = true;
  }
  if (missing.length) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      sh(log, 'apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
    } catch (e) {
      if (updated) throw e;
      sh(log, 'apt-get', ['update']);
      sh(log, 'apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
    }
  }
  if (!existing) {
    mkdirSync(cacheDir, { recursive: true });
    try {
      sh(log, 'apt-get', ['source', 'xen'], { cwd: cacheDir });
    } catch (e) {
      if (updated) throw e;
      sh(log, 'apt-get', ['update']);
      sh(log, 'apt-get', ['source', 'xen'], { cwd: cacheDir });
    }
  }
  const src = unpackedSource(cacheDir);
  if (!src) throw new Error(`xen-source: apt-get source xen left no xen-*/ tree in ${cacheDir}`);
  return src;
}

function libPathOf(buildDir: string): string {
  const libs = join(buildDir, 'tools/libs');
  return readdirSync(libs, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(libs, d.name))
    .filter((d) => readdirSync(d).some((f) => /\.so\.\d/.test(f))).join(':');
}

/**
 * Makes sure the patched xl is built; returns its paths. Throws with the failing step's output.
 * `log` receives each command as it starts (default: nothing).
 */
export function ensureXenBuild(patch: SourcePatch, opts: { cacheDir?: string; log?: Log; jobs?: number } = {}): XenBuild {
  const cacheDir = opts.cacheDir ?? join(repoRoot(), 'test/cache/xen-src');
  const log = opts.log ?? (() => undefined);
  const seconds: Record<string, number> = {};
  const buildDir = join(cacheDir, `build-${patch.name}`);
  const keyOf = (version: string): string => createHash('sha256').update(JSON.stringify([version, patch.name, patch.description, CONFIGURE_OPTIONS])).digest('hex');
  const stampFile = join(buildDir, '.unigrind-build.json');
  const xl = join(buildDir, 'tools/xl/xl');
  // An earlier build of the same source and patch: no apt, no root needed.
  const prior = unpackedSource(cacheDir);
  if (prior && existsSync(stampFile) && existsSync(xl)) {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { key: string; seconds: Record<string, number> };
    if (stamp.key === keyOf(prior.version)) return { ...prior, buildDir, xl, libPath: libPathOf(buildDir), seconds: stamp.seconds, cached: true };
  }
  const { srcDir, version } = timed(seconds, 'setup', () => setup(cacheDir, log));
  const key = keyOf(version);
  rmSync(buildDir, { recursive: true, force: true });
  timed(seconds, 'copy+patch', () => {
    // cp -a keeps timestamps: generated files (the xlu parser) must stay newer than their sources.
    sh(log, 'cp', ['-a', srcDir, buildDir]);
    patch.apply(buildDir);
  });
  timed(seconds, 'configure', () => {
    for (const f of ['config.guess', 'config.sub']) cpSync(join('/usr/share/autoconf/build-aux', f), join(buildDir, f));
    sh(log, 'autoconf', ['-f'], { cwd: buildDir });
    sh(log, 'autoconf', ['-f'], { cwd: join(buildDir, 'tools') });
    sh(log, 'autoheader', [], { cwd: join(buildDir, 'tools') });
    sh(log, './configure', [...CONFIGURE_OPTIONS], { cwd: buildDir });
  });
  const jobs = String(opts.jobs ?? Math.max(2, cpus().length));
  timed(seconds, 'make', () => {
    // One make per subtree, in order: libs need the generated headers, xl needs the libs.
    for (const target of ['subdir-all-include', 'subdir-all-libs', 'subdir-all-xl']) {
      sh(log, 'make', ['-C', 'tools', `-j${jobs}`, target, 'debug_symbols=y'], { cwd: buildDir });
    }
  });
  if (!existsSync(xl)) throw new Error(`xen-source: the build finished without ${xl}`);
  writeFileSync(stampFile, JSON.stringify({ key, version, patch: patch.name, seconds }, null, 1));
  return { version, srcDir, buildDir, xl, libPath: libPathOf(buildDir), seconds, cached: false };
}
