/**
 * Valgrind 3.19 as the oracle of the leak search and the heap layout. Each C/C++ fixture builds
 * one heap shape; the real Valgrind reports its loss records; the test builds the same shape in
 * JS (same blocks, same sizes, same allocation order, the same pointers stored) on the real Heap
 * and ShadowMemory, runs the leak search and compares the loss records (state, direct and
 * indirect bytes, block count), the LEAK SUMMARY totals and the heuristic counts.
 */
import { describe, it, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import type { LeakState } from '../../../engine/errors/error-record';
import { readValgrindXml } from '../../../engine/report/xml-reader';
import { Heap } from '../../../engine/memcheck/heap';
import { LeakHeuristic, lossRecords } from '../../../engine/memcheck/leak-check';
import { ShadowMemory } from '../../../engine/memcheck/shadow-memory';
import { FakeGuest, LeakImage } from './support';

const run = promisify(execFile);
const SRC = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'unit', 'memcheck', 'fixtures');

function haveTools(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'pipe' });
    execFileSync('gcc', ['--version'], { stdio: 'pipe' });
    execFileSync('g++', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const tools = haveTools();
let dir = '';

/** Compiles a fixture into the scratch directory. */
async function build(name: string): Promise<void> {
  const cpp = fs.existsSync(path.join(SRC, `${name}.cpp`));
  const src = path.join(SRC, `${name}${cpp ? '.cpp' : '.c'}`);
  // The old (reference-counted) std::string is the layout the stdstring heuristic recognises.
  const flags = cpp ? ['-D_GLIBCXX_USE_CXX11_ABI=0'] : [];
  await run(cpp ? 'g++' : 'gcc', ['-g', '-O0', ...flags, '-o', path.join(dir, name), src]);
}

/** A loss record reduced to what must agree. */
interface Rec { state: LeakState; bytes: number; indirect: number; blocks: number }

/** What Valgrind reported about one run. */
interface Oracle {
  records: Rec[];
  totals: Record<LeakState, { bytes: number; blocks: number }>;
  heuristics: { name: string; bytes: number; blocks: number }[];
}

/**
 * Runs the fixture under Valgrind with full leak checking, twice: with --xml=yes for the loss
 * records (`<xwhat>`), and in text mode for the LEAK SUMMARY and its heuristic lines (Valgrind
 * prints no summary in XML mode).
 */
async function valgrindLeaks(name: string, extra: string[] = []): Promise<Oracle> {
  const tag = `${name}${extra.join('').replace(/[^a-z]/g, '')}`;
  const xml = path.join(dir, `${tag}.xml`);
  const xmlLog = path.join(dir, `${tag}.xml.log`);
  const log = path.join(dir, `${tag}.log`);
  const common = ['--leak-check=full', '--show-leak-kinds=all', ...extra];
  await Promise.all([
    run('valgrind', [...common, '--xml=yes', `--xml-file=${xml}`, `--log-file=${xmlLog}`, `./${name}`], { cwd: dir }),
    run('valgrind', [...common, `--log-file=${log}`, `./${name}`], { cwd: dir }),
  ]);
  const doc = readValgrindXml(fs.readFileSync(xml, 'latin1'));
  const records = doc.errors.flatMap((e) => {
    const l = e.record.leak;
    return l ? [{ state: l.state, bytes: l.bytes, indirect: l.indirectBytes, blocks: l.blocks }] : [];
  });
  const text = fs.readFileSync(log, 'latin1');
  const num = (s: string) => Number(s.replace(/,/g, ''));
  const line = (label: string) => {
    const m = new RegExp(`${label}: ([\\d,]+) bytes in ([\\d,]+) blocks`).exec(text);
    if (!m) throw new Error(`no "${label}" line in Valgrind's LEAK SUMMARY`);
    return { bytes: num(m[1]), blocks: num(m[2]) };
  };
  const heuristics = [...text.matchAll(/^==\d+==\s+(stdstring|length64|newarray|multipleinheritance)\s*: ([\d,]+) bytes in ([\d,]+) blocks/gm)]
    .map((m) => ({ name: m[1], bytes: num(m[2]), blocks: num(m[3]) }));
  return {
    records,
    totals: {
      definite: line('definitely lost'), indirect: line('indirectly lost'),
      possible: line('possibly lost'), reachable: line('still reachable'),
    },
    heuristics,
  };
}

/** Our view of an image, in the same terms. */
function ours(img: LeakImage, heuristics?: ReadonlySet<LeakHeuristic>): Oracle {
  const res = img.search(heuristics);
  const records = lossRecords(res, { key: (site) => site, stack: () => [] })
    .map((r) => ({ state: r.state, bytes: r.bytes, indirect: r.indirectBytes, blocks: r.blocks }));
  return { records, totals: res.totals, heuristics: res.heuristicTotals.filter((h) => h.blocks > 0) };
}

/** Each fixture's heap shape, rebuilt: one allocation site string per malloc call site. */
const SHAPES: Record<string, (img: LeakImage) => void> = {
  definite(img) {
    const p = img.malloc('leak', 16);
    img.shadow.makeDefined(p, 1); // p[0] = 1
  },
  list(img) {
    let head = 0;
    for (let i = 0; i < 3; i++) {
      const x = img.malloc('node', 16);
      img.store(x, head);
      img.store(x + 8, i);
      head = x;
    }
    img.setGlobal('keep', head);
    img.setGlobal('keep', 0);
  },
  interior(img) {
    const p = img.malloc('make', 32);
    img.shadow.makeDefined(p, 32); // zeroed by the loop
    img.setGlobal('inside', p + 4);
  },
  cycle(img) {
    const a = img.malloc('a', 24);
    const b = img.malloc('b', 24);
    img.store(a, b);
    img.store(b, a);
  },
  reachable(img) {
    img.setGlobal('held', img.malloc('held', 10));
    const chain = img.malloc('chain', 16);
    img.setGlobal('chain', chain);
    const next = img.malloc('next', 16);
    img.store(chain, next);
    img.store(next, 0);
  },
  xl_list(img) {
    const all = img.malloc('list_domains', 16 * 88, true);
    img.setGlobal('second', all + 88);
  },
  mixed(img) {
    const p = img.malloc('p', 32);
    const q = img.malloc('q', 20);
    img.store(p, q);
    img.store(p + 8, 0);
    img.setGlobal('inside', p + 4);
    const root = img.malloc('root', 16);
    img.setGlobal('root', root);
    const s = img.malloc('s', 64, true);
    img.store(root, s + 8);
    const t = img.malloc('t', 48, true);
    img.store(root + 8, t);
    img.setGlobal('also_inside', t + 20);
    const x = img.malloc('x', 40);
    img.store(x, 0);
    img.store(x + 8, 0);
    const y = img.malloc('y', 24);
    img.store(y, x);
    img.store(y + 8, 0);
  },
};

/** heuristics.cpp rebuilt, with the program's vtables in fake file mappings. */
function heuristicsImage(): LeakImage {
  const img = new LeakImage();
  const text = img.guest.map(0x400000, 0x1000, { fileMapped: true, executable: true });
  const rodata = img.guest.map(0x402000, 0x1000, { fileMapped: true });
  void text;
  void rodata;
  // Two vtables, each with two function pointers into the text mapping.
  const vtA = 0x402010;
  const vtB = 0x402040;
  img.guest.writeWord(vtA, 0x400100);
  img.guest.writeWord(vtA + 8, 0x400140);
  img.guest.writeWord(vtB, 0x400180);
  img.guest.writeWord(vtB + 8, 0x4001c0);
  // text = new std::string(100, 'x'): the string object, then its reference-counted rep.
  const obj = img.malloc('string-object', 8, false, 'new');
  const rep = img.malloc('string-rep', 24 + 100 + 1, false, 'new');
  img.store(rep, 100);        // length
  img.store(rep + 8, 100);    // capacity
  img.shadow.makeDefined(rep + 16, 4); // the int refcount; its padding stays undefined
  img.shadow.makeDefined(rep + 24, 101); // the characters and the NUL
  img.store(obj, rep + 24);
  img.setGlobal('text', obj);
  // array = new WithDtor[5]: the count, then five uninitialised elements.
  const arr = img.malloc('array', 8 + 5 * 8, false, 'new[]');
  img.store(arr, 5);
  img.setGlobal('array', arr + 8);
  // base = new Both: vptr of A, a, vptr of B, b, c; the B part is 16 bytes in.
  const both = img.malloc('both', 40, false, 'new');
  img.store(both, vtA);
  img.store(both + 16, vtB);
  img.setGlobal('base', both + 16);
  // counted = malloc(108) + 8 with the length in front.
  const counted = img.malloc('counted', 108);
  img.store(counted, 100);
  img.setGlobal('counted', counted + 8);
  return img;
}

describe('leak search against Valgrind', { skip: tools ? false : 'valgrind, gcc or g++ missing' }, () => {
  const names = [...Object.keys(SHAPES), 'heuristics', 'layout'];
  const oracles = new Map<string, Oracle>();
  let layoutOutput = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-memcheck-'));
    await Promise.all(names.map(build));
    const jobs: [string, () => Promise<void>][] = [
      ...Object.keys(SHAPES).map((n): [string, () => Promise<void>] => [n, async () => { oracles.set(n, await valgrindLeaks(n)); }]),
      ['heuristics', async () => { oracles.set('heuristics', await valgrindLeaks('heuristics')); }],
      ['heuristics-none', async () => { oracles.set('heuristics-none', await valgrindLeaks('heuristics', ['--leak-check-heuristics=none'])); }],
      ['layout', async () => { layoutOutput = (await run('valgrind', ['-q', './layout'], { cwd: dir })).stdout; }],
    ];
    // A few Valgrind runs at a time.
    const queue = [...jobs];
    await Promise.all([0, 1, 2].map(async () => {
      for (let j = queue.shift(); j; j = queue.shift()) await j[1]();
    }));
  });

  for (const name of Object.keys(SHAPES)) {
    it(`classifies the ${name} shape as Valgrind does`, () => {
      const expected = oracles.get(name);
      assert.ok(expected && expected.records.length > 0, 'Valgrind reported loss records');
      const img = new LeakImage();
      SHAPES[name](img);
      const got = ours(img);
      assert.deepEqual(got.records, expected.records);
      assert.deepEqual(got.totals, expected.totals);
      assert.deepEqual(got.heuristics, expected.heuristics);
    });
  }

  it('recognises the std::string, new[], length64 and multiple-inheritance interior pointers as Valgrind does', () => {
    const expected = oracles.get('heuristics');
    assert.ok(expected);
    assert.equal(expected.heuristics.length, 4, 'Valgrind used all four heuristics');
    const got = ours(heuristicsImage());
    assert.deepEqual(got.records, expected.records);
    assert.deepEqual(got.totals, expected.totals);
    assert.deepEqual(got.heuristics, expected.heuristics);
  });

  it('without heuristics, reports those blocks possibly lost as Valgrind does', () => {
    const expected = oracles.get('heuristics-none');
    assert.ok(expected);
    const got = ours(heuristicsImage(), new Set());
    assert.deepEqual(got.records, expected.records);
    assert.deepEqual(got.totals, expected.totals);
    assert.deepEqual(got.heuristics, []);
  });

  it('lays blocks out with Valgrind\'s spacing', () => {
    const lines = layoutOutput.trim().split('\n').map((l) => l.split(' ').map(Number));
    assert.ok(lines.length > 5, 'the layout fixture printed its gaps');
    const heap = new Heap<string>(new ShadowMemory(), new FakeGuest());
    for (const [size, gap] of lines) {
      const a = heap.alloc(size, 16, 'malloc', 'a');
      const b = heap.alloc(size, 16, 'malloc', 'b');
      assert.ok(a && b);
      assert.equal(b.start - a.start, gap, `gap between two malloc(${size})`);
    }
  });
});
