/**
 * Memcheck's options and end-of-run behaviour against Valgrind 3.19, on fixtures built at -O0
 * and -O2: --leak-check=no|summary|full, --show-leak-kinds, --errors-for-leak-kinds with
 * --error-exitcode, a suppressions file (-s and the suppressed counts of the summaries),
 * --gen-suppressions=all, a fatal SIGSEGV and an abort() (the text from "Process terminating"
 * on), SIGTERM sent to the tool while the guest sleeps, and leak searches asked for mid-run by
 * client requests. Text logs are compared from the HEAP SUMMARY (or the fatal signal, or the
 * first mid-run search) to the end, with PIDs, addresses and the preload object's frames blanked
 * (test/support/memcheck-oracle.ts says why); XML documents must follow protocol 4 even when the
 * run ends by a signal.
 */
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import {
  buildOnce, describeToolRun, essentials, FixtureProgram, logFrom, MEMCHECK_FIXTURES, OPT_LEVELS, OptLevel, program,
  removeScratch, runBoth, RunSpec, scratchDir, ToolRun,
} from '../../support/memcheck-oracle';
import { validateValgrindXml } from '../../support/valgrind-xml-schema';

const work = scratchDir('memcheck-options');
after(() => removeScratch(work));

// One build per fixture and level, shared by the tests.
const binary = buildOnce(work);

/** Both tools on a fixture, once per (fixture, level, tag). */
const runCache = new Map<string, Promise<{ valgrind: ToolRun; unigrind: ToolRun }>>();
function runs(p: FixtureProgram, opt: OptLevel, tag: string, spec: Omit<RunSpec, 'program' | 'dir'>): Promise<{ valgrind: ToolRun; unigrind: ToolRun }> {
  const key = `${p.name}-${opt}-${tag}`;
  if (!runCache.has(key)) {
    runCache.set(key, binary(p, opt).then((bin) => runBoth({ ...spec, program: bin, dir: work, tag: `${p.name}-${opt}-${tag}` })));
  }
  return runCache.get(key)!;
}

function both(r: { valgrind: ToolRun; unigrind: ToolRun }): string {
  return `\n${describeToolRun(r.valgrind)}\n${describeToolRun(r.unigrind)}`;
}

/** The text logs from `from` to the end must agree, and so must stdout and the exit status. */
function assertSameTail(r: { valgrind: ToolRun; unigrind: ToolRun }, from: string): void {
  const vg = logFrom(r.valgrind.log, from);
  const ug = logFrom(r.unigrind.log, from);
  assert.ok(vg, `no "${from}" in Valgrind's log${both(r)}`);
  assert.deepStrictEqual(ug, vg, `the log from "${from}" on (unigrind = actual)`);
  assert.equal(r.unigrind.stdout, r.valgrind.stdout, 'stdout');
  assert.equal(r.unigrind.signal, r.valgrind.signal, 'terminating signal');
  assert.equal(r.unigrind.status, r.valgrind.status, 'exit status');
}

const LEAK_MIX = program('leak_mix.c');

/** Text-mode leak-check variants of leak_mix.c (it leaks one record of each kind and exits 3). */
const LEAK_VARIANTS: { tag: string; options: string[]; exit: number }[] = [
  { tag: 'default (summary)', options: [], exit: 3 },
  { tag: '--leak-check=no', options: ['--leak-check=no'], exit: 3 },
  { tag: '--leak-check=summary --error-exitcode=42', options: ['--leak-check=summary', '--error-exitcode=42'], exit: 3 },
  { tag: '--leak-check=full', options: ['--leak-check=full'], exit: 3 },
  { tag: '--leak-check=full --show-leak-kinds=definite,reachable', options: ['--leak-check=full', '--show-leak-kinds=definite,reachable'], exit: 3 },
  { tag: '--leak-check=full --show-leak-kinds=none', options: ['--leak-check=full', '--show-leak-kinds=none'], exit: 3 },
  {
    tag: '--leak-check=full --errors-for-leak-kinds=reachable --error-exitcode=42',
    options: ['--leak-check=full', '--show-leak-kinds=all', '--errors-for-leak-kinds=reachable', '--error-exitcode=42'], exit: 42,
  },
  {
    tag: '--leak-check=full --errors-for-leak-kinds=none --error-exitcode=42',
    options: ['--leak-check=full', '--errors-for-leak-kinds=none', '--error-exitcode=42'], exit: 3,
  },
  {
    tag: '--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=42',
    options: ['--leak-check=full', '--errors-for-leak-kinds=definite', '--error-exitcode=42'], exit: 42,
  },
];

const SUPPRESSED = program('suppressed.c');
const SUPP = `--suppressions=${MEMCHECK_FIXTURES}/suppressed.supp`;

describe('memcheck options and end-of-run reports agree with Valgrind 3.19', { concurrency: true }, () => {
  for (const opt of OPT_LEVELS) {
    describe(`leak_mix.c -${opt}: --leak-check, --show-leak-kinds, --errors-for-leak-kinds (text, from HEAP SUMMARY on)`, { concurrency: true }, () => {
      for (const v of LEAK_VARIANTS) {
        it(v.tag, async () => {
          const r = await runs(LEAK_MIX, opt, v.tag.replace(/\W+/g, '_'), { options: v.options, xml: false });
          assertSameTail(r, 'HEAP SUMMARY:');
          assert.equal(r.valgrind.status, v.exit, `the exit status the option asks for${both(r)}`);
        });
      }
      it('--xml=yes --show-leak-kinds=definite: only the definite record, same leak totals', async () => {
        const r = await runs(LEAK_MIX, opt, 'xml-definite', { options: ['--leak-check=full', '--show-leak-kinds=definite'] });
        const sources = new Set(LEAK_MIX.sources);
        const vg = essentials(r.valgrind, sources);
        assert.deepStrictEqual(Object.keys(vg.leaks), ['Leak_DefinitelyLost'], `what the option is for${both(r)}`);
        assert.deepStrictEqual(essentials(r.unigrind, sources), vg);
        assert.deepStrictEqual(validateValgrindXml(r.unigrind.xmlText ?? ''), []);
      });
    });

    describe(`cr_leak_check.c -${opt}: leak searches the guest asks for (text, from "Command:" on)`, { concurrency: true }, () => {
      // Quick, full, added and changed searches mid-run: LEAK SUMMARY with "(+N)"/"(-N)", the
      // records a delta search picks, the "Reachable blocks" hint, and the exit-time search
      // numbering the records kept from the previous one.
      const CR_LEAK = program('cr_leak_check.c');
      for (const options of [['--leak-check=full'], ['--leak-check=full', '--show-leak-kinds=all'], ['--leak-check=no']]) {
        it(options.join(' '), async () => {
          const r = await runs(CR_LEAK, opt, options.join('_'), { options, xml: false });
          assertSameTail(r, 'Command:');
          assert.match(r.valgrind.log, /still reachable: [\d,]+ \(\+[\d,]+\) bytes/, `a delta summary${both(r)}`);
        });
      }
    });

    describe(`suppressed.c -${opt}: a suppressions file`, { concurrency: true }, () => {
      it('-s: used_suppression lines, LEAK SUMMARY "suppressed:" and ERROR SUMMARY counts (text, from HEAP SUMMARY on)', async () => {
        const r = await runs(SUPPRESSED, opt, 'supp-text', { options: ['--leak-check=full', '-s', SUPP], xml: false });
        assertSameTail(r, 'HEAP SUMMARY:');
        const summary = r.valgrind.log.split('\n').filter((l) => /ERROR SUMMARY/.test(l)).pop() ?? '';
        assert.match(summary, /\(suppressed: [1-9]\d* from [1-9]\d*\)/, `the fixture suppresses something${both(r)}`);
      });
      it('--gen-suppressions=all: the generated suppressions (kind, extra line, frames) and valid XML', async () => {
        const r = await runs(SUPPRESSED, opt, 'gen-supp', { options: ['--leak-check=full', '--show-leak-kinds=all', '--gen-suppressions=all', SUPP] });
        const gen = (t: ToolRun): string[] => (t.xml?.errors ?? []).map((e) => {
          const s = e.suppression;
          return s ? `${e.record.kind}: ${s.kind}${s.extra ? ` [${s.extra}]` : ''} ${s.frames.map((f) => ('fun' in f ? `fun:${f.fun}` : `obj:${f.obj}`)).join(' ')}` : `${e.record.kind}: (none)`;
        }).sort();
        // Frames outside the fixture (libc below main is cut; the preload's malloc is named) must agree too.
        assert.deepStrictEqual(gen(r.unigrind), gen(r.valgrind), `generated suppressions${both(r)}`);
        assert.deepStrictEqual(validateValgrindXml(r.valgrind.xmlText ?? ''), [], 'Valgrind\'s document');
        assert.deepStrictEqual(validateValgrindXml(r.unigrind.xmlText ?? ''), [], 'unigrind\'s document');
      });
    });

    describe(`fatal signals -${opt}`, { concurrency: true }, () => {
      const segv = program('segv_after_write.c');
      it('segv_after_write.c: text from "Process terminating" on (SIGSEGV after an invalid write)', async () => {
        const r = await runs(segv, opt, 'text', { options: ['--leak-check=full', '--show-leak-kinds=all'], xml: false });
        assert.equal(r.valgrind.signal, 'SIGSEGV', both(r));
        assertSameTail(r, 'Process terminating');
      });
      it('segv_after_write.c: the XML after a guest SIGSEGV is complete and follows protocol 4', async () => {
        const r = await runs(segv, opt, 'xml', {});
        assert.equal(r.unigrind.signal, 'SIGSEGV', both(r));
        assert.equal(r.unigrind.xml?.complete, true, 'closed with </valgrindoutput>');
        assert.deepStrictEqual(validateValgrindXml(r.unigrind.xmlText ?? ''), []);
        assert.equal(essentials(r.unigrind, new Set(segv.sources)).fatalSignal, essentials(r.valgrind, new Set(segv.sources)).fatalSignal);
      });
      it('abort_signal.c: text from "Process terminating" on (SIGABRT)', async () => {
        const r = await runs(program('abort_signal.c'), opt, 'text', { options: ['--leak-check=full', '--show-leak-kinds=all'], xml: false });
        assert.equal(r.valgrind.signal, 'SIGABRT', both(r));
        assertSameTail(r, 'Process terminating');
      });
      // Valgrind names libc functions by their .symtab spelling, "_IO_file_overflow@@GLIBC_2.2.5".
      it('stdio_at_abort.c: the loss record of stdout\'s buffer names glibc\'s stdio functions as Valgrind does', async () => {
        const r = await runs(program('stdio_at_abort.c'), opt, 'text', { options: ['--leak-check=full', '--show-leak-kinds=all'], xml: false });
        assert.equal(r.valgrind.signal, 'SIGABRT', both(r));
        assertSameTail(r, 'Process terminating');
      });
      it('sleeper.c: SIGTERM to the tool while the guest sleeps: same report, complete XML', async () => {
        const sleeper = program('sleeper.c');
        const r = await runs(sleeper, opt, 'sigterm', { signalOnStdout: { text: 'sleeping', signal: 'SIGTERM' }, timeoutMs: 60_000 });
        assert.equal(r.valgrind.signal, 'SIGTERM', `Valgrind passes SIGTERM to its guest${both(r)}`);
        assert.deepStrictEqual(validateValgrindXml(r.valgrind.xmlText ?? ''), [], 'Valgrind\'s document');
        assert.equal(r.unigrind.xml?.complete, true, `unigrind closed its document${both(r)}`);
        assert.deepStrictEqual(validateValgrindXml(r.unigrind.xmlText ?? ''), [], 'unigrind\'s document');
        const sources = new Set(sleeper.sources);
        assert.deepStrictEqual(essentials(r.unigrind, sources), essentials(r.valgrind, sources));
      });
    });
  }
});
