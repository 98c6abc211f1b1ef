#!/usr/bin/env node
// @ts-check
/**
 * Builds the unigrind .vsix from the compiled tree (run `npm run build` first):
 *
 *   node extension/scripts/package.js [--out FILE] [--allow-missing adapter,…]
 *
 * The repository is not laid out like an extension (the manifest is extension/package.json, the
 * code is compiled to dist/ at the root, the runtime dependencies live in the root's
 * node_modules), so the script assembles one in a temporary staging folder and runs vsce there:
 *
 *   stage/package.json     extension/package.json without scripts and devDependencies
 *   stage/README.md        extension/README.md, with extension/media/ (its pictures)
 *   stage/dist/{engine,adapter,server,extension}   the compiled code (no tests, no benches), and
 *                          the data files beside its sources (engine/errors/default.supp), which
 *                          tsc does not copy
 *   stage/node_modules/    the production dependency trees of the root and of extension/,
 *                          as `npm ls --omit=dev --parseable` lists them (npm's own resolution,
 *                          so no package is guessed and no dev tool slips in)
 *
 * vsce then runs with --no-dependencies (it must not run npm itself in a folder npm did not
 * install) and --target linux-x64 (koffi's native part and the Unicorn/libdw libraries the engine
 * loads are Linux x86-64).
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const EXT = path.resolve(__dirname, '..');
const ROOT = path.resolve(EXT, '..');
const DIST = path.join(ROOT, 'dist');
const TARGET = 'linux-x64';

/** Entry points the manifest refers to, by the name --allow-missing uses. */
const ENTRY_POINTS = {
  extension: 'extension/src/extension.js',
  server: 'server/main.js',
  adapter: 'adapter/main.js',
  engine: 'engine',
};
/** Compiled folders shipped in the package. */
const SHIPPED = ['engine', 'adapter', 'server', 'extension'];

/** @param {string} msg @returns {never} */
function fail(msg) {
  process.stderr.write(`package: ${msg}\n`);
  process.exit(1);
}

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {{ out?: string, allowMissing: string[] }} */
  const opts = { allowMissing: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = path.resolve(argv[++i] ?? fail('--out needs a file'));
    else if (a === '--allow-missing') opts.allowMissing = (argv[++i] ?? '').split(',').filter(Boolean);
    else fail(`unknown option ${a}`);
  }
  return opts;
}

/**
 * Production packages of an npm project, as absolute directories (the project itself excluded).
 * @param {string} dir
 */
function productionPackages(dir) {
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: dir, encoding: 'utf8' });
  if (r.error) fail(`npm ls in ${dir}: ${r.error.message}`);
  // npm ls exits non-zero for extraneous packages but still lists the tree; a missing one is fatal.
  if (/missing:|ELSPROBLEMS.*missing/.test(r.stderr)) fail(`npm ls in ${dir} reports missing packages — run npm install there:\n${r.stderr}`);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && path.resolve(l) !== path.resolve(dir));
}

/**
 * Copy a package directory without its nested node_modules (those are listed, and copied, on
 * their own).
 * @param {string} from @param {string} to
 */
function copyPackage(from, to) {
  fs.cpSync(from, to, {
    recursive: true,
    dereference: true,
    filter: (src) => path.relative(from, src).split(path.sep)[0] !== 'node_modules',
  });
}

/**
 * Copy the data files of a source folder (what is neither TypeScript nor documentation) to the
 * same places under the compiled folder: modules find them beside themselves at run time.
 * @param {string} from @param {string} to
 */
function copyDataFiles(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') copyDataFiles(src, path.join(to, entry.name));
    } else if (entry.isFile() && !/\.(?:ts|md)$/.test(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, path.join(to, entry.name));
    }
  }
}

/** @param {string} dir */
function versionOf(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const missing = Object.entries(ENTRY_POINTS).filter(([name, rel]) => !opts.allowMissing.includes(name) && !fs.existsSync(path.join(DIST, rel)));
  if (missing.length > 0) fail(`not built: ${missing.map(([, rel]) => `dist/${rel}`).join(', ')} (run npm run build; --allow-missing ${missing.map(([n]) => n).join(',')} to package anyway)`);

  const manifest = JSON.parse(fs.readFileSync(path.join(EXT, 'package.json'), 'utf8'));
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-vsix-'));
  try {
    // Code.
    for (const dir of SHIPPED) {
      const from = path.join(DIST, dir);
      if (!fs.existsSync(from)) continue;
      fs.cpSync(from, path.join(stage, 'dist', dir), { recursive: true });
      // The extension's sources sit in extension/src; its other folders are not code.
      const sources = path.join(ROOT, dir === 'extension' ? path.join('extension', 'src') : dir);
      copyDataFiles(sources, path.join(stage, 'dist', dir === 'extension' ? path.join('extension', 'src') : dir));
    }
    // Runtime dependencies: the root's (engine, adapter, server) and the extension's own.
    const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    /** @type {Map<string, string>} package path below node_modules → source directory */
    const chosen = new Map();
    for (const project of [ROOT, EXT]) {
      for (const dir of productionPackages(project)) {
        const rel = path.relative(path.join(project, 'node_modules'), dir);
        const prev = chosen.get(rel);
        if (prev !== undefined && versionOf(prev) !== versionOf(dir)) {
          fail(`${rel} is needed at ${versionOf(prev)} by the root and at ${versionOf(dir)} by extension/: align the versions`);
        }
        if (prev === undefined) chosen.set(rel, dir);
      }
    }
    for (const [rel, dir] of chosen) copyPackage(dir, path.join(stage, 'node_modules', rel));
    // Manifest: the extension's, with the union of runtime dependencies and no build tooling.
    delete manifest.scripts;
    delete manifest.devDependencies;
    manifest.dependencies = { ...rootPkg.dependencies, ...manifest.dependencies };
    fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const doc of ['README.md', 'CHANGELOG.md']) {
      if (fs.existsSync(path.join(EXT, doc))) fs.copyFileSync(path.join(EXT, doc), path.join(stage, doc));
    }
    if (fs.existsSync(path.join(EXT, 'media'))) fs.cpSync(path.join(EXT, 'media'), path.join(stage, 'media'), { recursive: true });
    fs.writeFileSync(path.join(stage, '.vscodeignore'), ['**/*.map', '**/*.ts', '!**/*.d.ts', ''].join('\n'));

    const out = opts.out ?? path.join(DIST, `${manifest.name}-${manifest.version}-${TARGET}.vsix`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const vsce = path.join(EXT, 'node_modules', '.bin', 'vsce');
    if (!fs.existsSync(vsce)) fail('vsce not installed: run npm install --prefix extension');
    // --no-rewrite-relative-links: the README's pictures ship in the package (media/), where VS
    // Code's extension page finds them; vsce would otherwise demand a repository URL to make
    // them absolute.
    const r = spawnSync(vsce, ['package', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--target', TARGET, '--out', out], {
      cwd: stage,
      stdio: 'inherit',
    });
    if (r.status !== 0) fail(`vsce failed (status ${r.status})`);
    process.stdout.write(`package: wrote ${out}\n`);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

main();
