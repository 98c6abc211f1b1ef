/**
 * Ordinary programs are error-free under memcheck, as under Valgrind 3.19 on this machine:
 * `/bin/ls -la /usr/lib`, `/usr/bin/python3 -c …` (twice), a C++ program using std::string,
 * std::vector, std::map and exceptions, and the pthread and epoll fixtures of the engine tests. "Error-free" is what
 * Valgrind's ERROR SUMMARY counts by default: no error other than leaks, and no definitely or
 * possibly lost block. Besides, the two tools agree on the essentials (test/support/memcheck-
 * oracle.ts): stdout, exit status and the leak totals per kind (still-reachable blocks of libc
 * and python included).
 */
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import {
  build, describeToolRun, errorEntries, essentials, exitOf, OPT_LEVELS, program, removeScratch, runBoth, scratchDir, ToolRun,
} from '../../support/memcheck-oracle';
import { fixture } from '../../support/paths';
import { validateValgrindXml } from '../../support/valgrind-xml-schema';

const work = scratchDir('memcheck-programs');
after(() => removeScratch(work));

/** Errors Valgrind would count with the default --errors-for-leak-kinds=definite,possible. */
function countedErrors(r: ToolRun): string[] {
  return errorEntries(r, new Set())
    .filter((e) => !['Leak_StillReachable', 'Leak_IndirectlyLost'].includes(e.kind))
    .map((e) => `${e.kind}: ${e.what} (in ${e.fn})`);
}

/** Runs both tools; the tag names their output files (unique per test: the tests run concurrently). */
async function assertCleanAndAgreeing(prog: string, args: string[], sources: string[] = [], tag = prog.replace(/\W+/g, '_')): Promise<void> {
  const r = await runBoth({ program: prog, args, dir: work, tag, timeoutMs: 300_000 });
  const both = `\n${describeToolRun(r.valgrind)}\n${describeToolRun(r.unigrind)}`;
  assert.deepStrictEqual(countedErrors(r.valgrind), [], `Valgrind finds no error${both}`);
  assert.deepStrictEqual(countedErrors(r.unigrind), [], `unigrind finds no error${both}`);
  const src = new Set(sources);
  assert.deepStrictEqual(essentials(r.unigrind, src), essentials(r.valgrind, src), `stdout, exit status, leak totals${both}`);
  assert.deepStrictEqual(validateValgrindXml(r.unigrind.xmlText ?? ''), [], 'unigrind\'s XML');
}

describe('ordinary programs have no errors, as under Valgrind 3.19', { concurrency: true }, () => {
  it('/bin/ls -la /usr/lib', () => assertCleanAndAgreeing('/bin/ls', ['-la', '/usr/lib']));
  it('/usr/bin/python3 -c print(sum(range(10**5)))', () => assertCleanAndAgreeing('/usr/bin/python3', ['-c', 'print(sum(range(10**5)))']));
  // json imports codecs that compare encoding names a word at a time past their terminator
  // (exact comparisons: --expensive-definedness-checks=auto).
  const json = 'import json; d = {str(i): [i, i * 0.5, None] for i in range(300)}; s = json.dumps(d); print(len(s), json.loads(s) == d)';
  it('/usr/bin/python3 -c (a json round trip)', () => assertCleanAndAgreeing('/usr/bin/python3', ['-c', json], [], 'python3_json'));
  it('/usr/bin/nm -D: the same errors as Valgrind (ld.so runs its own strncmp, which reads past a string)', async () => {
    const r = await runBoth({ program: '/usr/bin/nm', args: ['-D', '/lib/x86_64-linux-gnu/libz.so.1'], dir: work, tag: 'nm', timeoutMs: 300_000 });
    const both = `\n${describeToolRun(r.valgrind)}\n${describeToolRun(r.unigrind)}`;
    assert.deepStrictEqual(countedErrors(r.unigrind).sort(), countedErrors(r.valgrind).sort(), `errors${both}`);
    // Not the leak records: the failed dlopen of an LLVM plugin leaves slightly different blocks.
    assert.equal(r.unigrind.stdout, r.valgrind.stdout, `stdout${both}`);
    assert.equal(exitOf(r.unigrind), exitOf(r.valgrind), `exit status${both}`);
  });
  for (const opt of OPT_LEVELS) {
    it(`cxx_containers.cpp -${opt} (std::string, std::vector, std::map, an exception)`, async () => {
      const p = program('cxx_containers.cpp');
      await assertCleanAndAgreeing(await build(p, opt, work), [], p.sources);
    });
    it(`test/fixtures/engine/epoll.c -${opt} (epoll_ctl reads only the event's events field)`, async () => {
      const p = { name: 'epoll', sources: [fixture('engine', 'epoll.c')], flags: ['-pthread'] };
      await assertCleanAndAgreeing(await build(p, opt, work), [], ['epoll.c']);
    });
    it(`test/fixtures/engine/threads.c -${opt} (four threads, a mutex)`, async () => {
      const p = { name: 'threads', sources: [fixture('engine', 'threads.c')], flags: ['-pthread'] };
      await assertCleanAndAgreeing(await build(p, opt, work), [], ['threads.c']);
    });
  }
});
