/**
 * Uninitialised values against the oracle: every fixture of test/fixtures/memcheck-uninit is
 * built with gcc -g at -O0 and at -O2 and run under the real Valgrind 3.19 and under unigrind,
 * once as the other oracle tests do and once more with `--track-origins=yes` (one build per
 * fixture and level serves both). Compared: the multiset of errors (kind, primary line, first
 * frame in the fixture's source, count), the program's stdout and exit status, and with origins
 * also each error's origin line ("Uninitialised value was created by a heap allocation" / "… by
 * a stack allocation") with the first fixture frame of its origin stack.
 *
 * Also asserted:
 * - Valgrind itself reports what each fixture says it shows. The fixtures mark the line of each
 *   expected error with a comment "error: <Kind>[, <Kind>]" and the line the origin stack must
 *   point at with "origin: heap" or "origin: stack"; at both levels the (kind, line) pairs
 *   Valgrind reports must be exactly the marked ones, so a fixture that gcc -O2 folded away, or
 *   one that reports more than it should, fails here.
 * - The program behaves the same under both tools (stdout, exit status): the fixtures take care
 *   that no undefined value decides what they print or how they exit (test/fixtures/
 *   memcheck-uninit/uninit.h).
 * - Both XML documents follow protocol 4.
 * - word_compare.c also with --expensive-definedness-checks=no and =yes: the same errors.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ErrorFrame } from '../../../engine/errors/error-record';
import {
  buildOnce, describeToolRun, errorEntries, essentials, exitOf, FixtureProgram, MEMCHECK_UNINIT_FIXTURES, OPT_LEVELS, OptLevel,
  origins, programIn, removeScratch, runBoth, scratchDir, ToolRun,
} from '../../support/memcheck-oracle';
import { validateValgrindXml } from '../../support/valgrind-xml-schema';

const work = scratchDir('memcheck-uninit');
after(() => removeScratch(work));

/** One fixture and what is known about it. */
interface UninitCase {
  program: FixtureProgram;
  /** The kinds Valgrind reports (none for the negative case); must agree with the markers. */
  kinds: string[];
  /** A unigrind defect specific to this fixture: the reason. */
  todo?: string | Partial<Record<OptLevel, string>>;
}

const uninit = (file: string): FixtureProgram => programIn(MEMCHECK_UNINIT_FIXTURES, file);

const CASES: UninitCase[] = [
  // ---- conditions on undefined values, from the heap and from the stack
  { program: uninit('heap_cond.c'), kinds: ['UninitCondition'] },
  { program: uninit('stack_cond.c'), kinds: ['UninitCondition'] },
  { program: uninit('partial_struct.c'), kinds: ['UninitCondition'] },
  { program: uninit('bitfield.c'), kinds: ['UninitCondition'] },
  { program: uninit('double_cmp.c'), kinds: ['UninitCondition'] },
  // ---- propagation: through memory, registers, arithmetic, library code
  { program: uninit('realloc_tail.c'), kinds: ['UninitCondition'] },
  { program: uninit('memcpy_prop.c'), kinds: ['UninitCondition'] },
  { program: uninit('param_return.c'), kinds: ['UninitCondition'] },
  { program: uninit('loop_sum.c'), kinds: ['UninitCondition'] },
  { program: uninit('qsort_keys.c'), kinds: ['UninitCondition'] },
  { program: uninit('strlen_partial.c'), kinds: ['UninitCondition'] },
  { program: uninit('printf_int.c'), kinds: ['UninitCondition', 'UninitValue'] },
  // ---- exact comparisons and adds (--expensive-definedness-checks=auto): strings compared a word at a time
  { program: uninit('word_compare.c'), kinds: ['UninitCondition'] },
  // ---- undefined addresses and jump tables
  { program: uninit('array_index.c'), kinds: ['UninitValue'] },
  { program: uninit('uninit_pointer.c'), kinds: ['UninitValue'] },
  { program: uninit('switch_jump.c'), kinds: ['UninitCondition', 'UninitValue'] },
  // ---- system call parameters: in memory, in a register
  { program: uninit('padding_write.c'), kinds: ['SyscallParam'] },
  { program: uninit('exit_status.c'), kinds: ['SyscallParam'] },
  // ---- the negative cases
  { program: uninit('calloc_defined.c'), kinds: [] },
  { program: uninit('regex_bracket.c'), kinds: [] },
];

// ------------------------------------------------------------------ the fixtures' markers

/** What a fixture's comments say Valgrind must report. */
interface Markers {
  /** "Kind @ line", sorted. */
  errors: string[];
  /** The origin line: its kind, its line, and (for a stack origin) the function it opens. */
  origin?: { kind: 'heap' | 'stack'; line: number; fn?: string };
}

function readMarkers(p: FixtureProgram): Markers {
  const text = readFileSync(join(p.dir ?? MEMCHECK_UNINIT_FIXTURES, p.sources[0]), 'utf8');
  const errors: string[] = [];
  let origin: Markers['origin'];
  text.split('\n').forEach((l, i) => {
    const e = /\/\* error: ([A-Za-z, ]+) \*\//.exec(l);
    if (e) for (const k of e[1].split(', ')) errors.push(`${k} @ ${i + 1}`);
    const o = /\/\* origin: (heap|stack) \*\//.exec(l);
    if (o) {
      assert.equal(origin, undefined, `${p.sources[0]}: one origin marker`);
      // A stack origin marks a function's opening line, "… name(params) {".
      const fn = /(\w+)\s*\([^()]*\)\s*\{/.exec(l)?.[1];
      origin = { kind: o[1] as 'heap' | 'stack', line: i + 1, ...(fn ? { fn } : {}) };
    }
  });
  return { errors: [...new Set(errors)].sort(), ...(origin ? { origin } : {}) };
}

/** The first frame of a stack that lies in the fixture's sources. */
function fixtureFrame(stack: readonly ErrorFrame[] | undefined, sources: ReadonlySet<string>): ErrorFrame | undefined {
  return stack?.find((f) => f.file !== undefined && sources.has(f.file.replace(/^.*\//, '')));
}

// ------------------------------------------------------------------ builds and runs, shared

type Variant = 'plain' | 'origins';
const VARIANTS: readonly Variant[] = ['plain', 'origins'];

// One build per fixture and level, shared by the tests.
const binary = buildOnce(work);

const runsOf = new Map<string, Promise<{ valgrind: ToolRun; unigrind: ToolRun }>>();
function runs(c: UninitCase, opt: OptLevel, variant: Variant): Promise<{ valgrind: ToolRun; unigrind: ToolRun }> {
  const tag = `${c.program.name}-${opt}-${variant}`;
  if (!runsOf.has(tag)) {
    const options = ['--leak-check=full', '--show-leak-kinds=all', ...(variant === 'origins' ? ['--track-origins=yes'] : [])];
    runsOf.set(tag, binary(c.program, opt).then((bin) => runBoth({ program: bin, dir: work, tag, options })));
  }
  return runsOf.get(tag)!;
}

function both(r: { valgrind: ToolRun; unigrind: ToolRun }): string {
  return `\n${describeToolRun(r.valgrind)}\n${describeToolRun(r.unigrind)}`;
}

// ------------------------------------------------------------------ the tests

describe('uninitialised values agree with Valgrind 3.19', { concurrency: true }, () => {
  for (const c of CASES) {
    const sources = new Set(c.program.sources);
    const markers = readMarkers(c.program);
    it(`${c.program.sources[0]}: its markers name the kinds of the case`, () => {
      assert.deepStrictEqual([...new Set(markers.errors.map((m) => m.split(' @ ')[0]))].sort(), [...c.kinds].sort());
      assert.equal(markers.origin !== undefined, c.kinds.length > 0, 'an origin marker exactly when errors are expected');
    });
    for (const opt of OPT_LEVELS) {
      for (const variant of VARIANTS) {
        const withOrigins = variant === 'origins';
        describe(`${c.program.sources[0]} -${opt}${withOrigins ? ' --track-origins=yes' : ''}`, { concurrency: true }, () => {
          it('Valgrind reports exactly the marked errors (and origins)', async () => {
            const r = await runs(c, opt, variant);
            assert.ok(r.valgrind.xml, `Valgrind wrote no XML${both(r)}`);
            const entries = errorEntries(r.valgrind, sources);
            const seen = [...new Set(entries.map((e) => `${e.kind} @ ${e.at.replace(/^.*:/, '')}`))].sort();
            assert.deepStrictEqual(entries.filter((e) => e.at === '(no fixture frame)'), [], `every error has a frame in the fixture${both(r)}`);
            assert.deepStrictEqual(seen, markers.errors, `Valgrind's errors (kind @ line of the first fixture frame) are the marked ones${both(r)}`);
            for (const { record } of r.valgrind.xml.errors) {
              const origin = record.aux.find((a) => a.role === 'origin');
              if (!withOrigins) {
                assert.equal(origin, undefined, 'no origin without --track-origins=yes');
                continue;
              }
              const m = markers.origin!;
              assert.ok(origin, `${record.kind} at ${JSON.stringify(record.stack[0])}: an origin${both(r)}`);
              assert.equal(origin.text, `Uninitialised value was created by a ${m.kind} allocation`);
              const f = fixtureFrame(origin.stack, sources);
              assert.ok(f, `the origin stack has a fixture frame${both(r)}`);
              if (m.kind === 'heap' || opt === 'O0') {
                assert.equal(f.line, m.line, `the origin is the marked line${both(r)}`);
              } else {
                // A stack origin is the instruction that made the frame (the stack-pointer
                // decrement, or for a leaf function living in the red zone, its first
                // instruction); at -O2 gcc gives that instruction the line of the first
                // statement. It must still be in the function the marker opens.
                assert.equal(f.fn, m.fn, `the origin is in the marked function${both(r)}`);
              }
            }
          });
          it('the program prints and exits the same under both tools', async () => {
            const r = await runs(c, opt, variant);
            assert.equal(r.unigrind.stdout, r.valgrind.stdout, `stdout${both(r)}`);
            assert.equal(exitOf(r.unigrind), exitOf(r.valgrind), `exit status${both(r)}`);
          });
          const todo = typeof c.todo === 'string' ? c.todo : c.todo?.[opt];
          it('errors, first fixture frames, stdout and exit status', todo ? { todo } : {}, async () => {
            const r = await runs(c, opt, variant);
            assert.ok(r.unigrind.xml, `unigrind wrote no XML${both(r)}`);
            const vg = essentials(r.valgrind, sources);
            const ug = essentials(r.unigrind, sources);
            assert.deepStrictEqual(ug.errors, vg.errors, `errors (unigrind = actual, Valgrind = expected)${both(r)}`);
            assert.deepStrictEqual(ug.leaks, vg.leaks, 'leak totals per kind (direct bytes, blocks)');
            assert.equal(ug.fatalSignal, vg.fatalSignal, 'fatal signal');
            assert.equal(ug.stdout, vg.stdout, 'stdout');
            assert.equal(ug.exit, vg.exit, 'exit status');
          });
          if (withOrigins) {
            it('origins (kind of allocation and the first fixture frame of the origin stack)', todo ? { todo } : {}, async () => {
              const r = await runs(c, opt, variant);
              assert.deepStrictEqual(origins(r.unigrind, sources), origins(r.valgrind, sources), `origins${both(r)}`);
            });
          }
          it('both XML documents are complete and follow protocol 4', async () => {
            const r = await runs(c, opt, variant);
            assert.deepStrictEqual(validateValgrindXml(r.valgrind.xmlText ?? ''), [], 'Valgrind\'s own document (checks the validator)');
            assert.deepStrictEqual(validateValgrindXml(r.unigrind.xmlText ?? ''), [], 'unigrind\'s document');
          });
        });
      }
    }
  }
});

describe('word_compare.c with --expensive-definedness-checks=no and =yes agrees with Valgrind 3.19', { concurrency: true }, () => {
  const p = uninit('word_compare.c');
  const sources = new Set(p.sources);
  for (const opt of OPT_LEVELS) {
    for (const level of ['no', 'yes']) {
      it(`-${opt} --expensive-definedness-checks=${level}: errors and first fixture frames`, async () => {
        const tag = `${p.name}-${opt}-edc-${level}`;
        const r = await binary(p, opt).then((bin) => runBoth({ program: bin, dir: work, tag, options: [`--expensive-definedness-checks=${level}`] }));
        const vg = essentials(r.valgrind, sources).errors;
        // The cheap rules report every compare and the add; the exact ones only the marked line.
        assert.equal(errorEntries(r.valgrind, sources).length, level === 'no' ? 5 : 1, `Valgrind's errors${both(r)}`);
        assert.deepStrictEqual(essentials(r.unigrind, sources).errors, vg, `errors (unigrind = actual, Valgrind = expected)${both(r)}`);
      });
    }
  }
});
