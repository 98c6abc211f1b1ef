/**
 * Test workspaces built at test time: the C/C++ fixtures of test/fixtures/server are copied to a
 * temporary folder, compiled there with gcc/g++ (so Valgrind's `<dir>` is that folder) and run
 * under the real Valgrind to produce the XML the server reads.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** test/fixtures/server in the source tree (tests run from dist/test/unit/server/support). */
export const FIXTURES = path.resolve(__dirname, '../../../../../test/fixtures/server');

/** Where a fixture source line says an error of `kind` belongs (`/* expect: Kind *\/`). */
export interface Expectation {
  file: string;
  /** 1-based line. */
  line: number;
  kind: string;
}

/** A temporary workspace with compiled fixtures. */
export interface Workspace {
  dir: string;
  /** Absolute paths of the compiled programs by name. */
  programs: Record<string, string>;
  expectations: Expectation[];
  remove(): void;
}

/** Copy the fixtures into a new temporary folder and compile them. */
export function makeWorkspace(prefix = 'unigrind-lsp-'): Workspace {
  // realpath: Valgrind records the compile directory with symlinks resolved.
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  for (const f of ['leaky.c', 'pool.c', 'pool.h', 'widget.cpp']) fs.copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  execFileSync('gcc', ['-g', '-O0', '-o', 'leaky', 'leaky.c', 'pool.c'], { cwd: dir });
  execFileSync('g++', ['-g', '-O0', '-o', 'widget', 'widget.cpp'], { cwd: dir });
  return {
    dir,
    programs: { leaky: path.join(dir, 'leaky'), widget: path.join(dir, 'widget') },
    expectations: ['leaky.c', 'pool.c', 'widget.cpp'].flatMap((f) => expectationsIn(path.join(dir, f))),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The `expect:` markers of one source file. */
export function expectationsIn(file: string): Expectation[] {
  const out: Expectation[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = /expect: ([A-Za-z_]+)/.exec(text);
      if (m) out.push({ file, line: i + 1, kind: m[1] as string });
    });
  return out;
}

/**
 * Run a program under Valgrind's memcheck writing XML to `xmlFile`; returns the XML text.
 * Valgrind's stderr is kept for failure messages.
 */
export function runValgrind(program: string, xmlFile: string, extra: string[] = []): string {
  fs.mkdirSync(path.dirname(xmlFile), { recursive: true });
  const args = ['--xml=yes', `--xml-file=${xmlFile}`, '--leak-check=full', '--show-leak-kinds=all', ...extra, program];
  const r = spawnSync('valgrind', args, { cwd: path.dirname(program), encoding: 'utf8' });
  if (r.error) throw r.error;
  if (!fs.existsSync(xmlFile)) throw new Error(`valgrind wrote no XML:\n${r.stderr}`);
  return fs.readFileSync(xmlFile, 'utf8');
}

/**
 * Kinds and first-workspace-frame lines of the errors in an XML document, read with regular
 * expressions — independently of the server's own XML reader, so that a bug there shows.
 */
export function errorsInXml(xml: string, workspace: string): { kind: string; file?: string; line?: number }[] {
  const out: { kind: string; file?: string; line?: number }[] = [];
  for (const m of xml.matchAll(/<error>([\s\S]*?)<\/error>/g)) {
    const body = m[1] as string;
    const kind = /<kind>(.*?)<\/kind>/.exec(body)?.[1] ?? '';
    const entry: { kind: string; file?: string; line?: number } = { kind };
    for (const f of body.matchAll(/<frame>([\s\S]*?)<\/frame>/g)) {
      const dir = /<dir>(.*?)<\/dir>/.exec(f[1] as string)?.[1];
      const file = /<file>(.*?)<\/file>/.exec(f[1] as string)?.[1];
      const line = /<line>(\d+)<\/line>/.exec(f[1] as string)?.[1];
      if (dir === workspace && file && line) {
        entry.file = path.join(dir, file);
        entry.line = Number(line);
        break;
      }
    }
    out.push(entry);
  }
  return out;
}
