/**
 * The seed scenario, for real: `xl` built from Debian bookworm's xen source (apt-get source xen)
 * with the call to libxl_dominfo_list_free in main_list removed, run as `xl list` under
 * `unigrind --leak-check=full` against the simulated hypervisor. memcheck must report the leaked
 * domain list — one definitely lost block, allocated by libxl_list_domain for main_list — and
 * nothing else. The control is Debian's own xl (test/integration/xen-xl.test.ts): `xl list`
 * there ends with every heap block freed.
 *
 * In Xen 4.17 libxl_list_domain grows its result with libxl__realloc (one realloc per batch of
 * 1024 domains), so the allocation stack is realloc ← libxl__realloc ← libxl_list_domain ←
 * main_list ← main (older and newer libxl allocate it with calloc; the frames below it are the
 * same).
 *
 * Slow (the first run downloads the source and builds libxl and xl: minutes), so it runs only
 * with UNIGRIND_XEN_SEED=1: `npm run test:xen-seed`. Needs root for apt-get on the first run
 * (test/support/xen-source.ts lists what it installs). Later runs reuse test/cache/xen-src.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureXenBuild, replaceOnce, SourcePatch, XenBuild } from '../support/xen-source';
import { describeRun, runUnigrind, stripPidPrefixes } from '../support/run';
import { makeTempDir } from '../support/compile';
import { SimHypervisor } from '../../engine/xen';

/** The seed's patch: main_list no longer frees the list libxl_list_domain returned. */
export const SEED_PATCH: SourcePatch = {
  name: 'seed-no-dominfo-list-free',
  description: 'tools/xl/xl_info.c main_list: drop `if (info_free) libxl_dominfo_list_free(info, nb_domain);`',
  apply(root) {
    replaceOnce(root, 'tools/xl/xl_info.c',
      '    if (info_free)\n        libxl_dominfo_list_free(info, nb_domain);\n',
      // info_free stays assigned; using it keeps -Werror=unused-but-set-variable quiet.
      '    (void)info_free; /* unigrind seed: libxl_dominfo_list_free(info, nb_domain) removed */\n');
  },
};

const ENABLED = process.env.UNIGRIND_XEN_SEED === '1';

/**
 * 1-based number of the only line of `file` (under the build tree) containing `text`, or, with
 * `after`, of the first such line following the line containing `after`.
 */
function lineContaining(b: XenBuild, file: string, text: string, after?: string): number {
  const lines = readFileSync(join(b.buildDir, file), 'utf8').split('\n');
  const from = after === undefined ? 0 : lines.findIndex((l) => l.includes(after));
  assert.ok(from >= 0, `${file}: no line contains ${after}`);
  const hits = lines.flatMap((l, i) => (i >= from && l.includes(text) ? [i + 1] : []));
  assert.ok(hits.length === 1 || (after !== undefined && hits.length > 0), `${file}: ${hits.length} lines contain ${text}`);
  return hits[0];
}

describe('seed: xl built from source without libxl_dominfo_list_free, under unigrind --leak-check=full', { skip: ENABLED ? false : 'slow; run with npm run test:xen-seed' }, () => {
  let build: XenBuild;

  it('builds tools/libs and xl from apt-get source xen, patched', () => {
    const t0 = Date.now();
    build = ensureXenBuild(SEED_PATCH, { log: (l) => process.stderr.write(`xen-seed: ${l}\n`) });
    const total = ((Date.now() - t0) / 1000).toFixed(1);
    process.stderr.write(`xen-seed: xen ${build.version} ${build.cached ? 'reused' : 'built'} in ${total} s (${JSON.stringify(build.seconds)})\n`);
    assert.doesNotMatch(readFileSync(join(build.buildDir, 'tools/xl/xl_info.c'), 'utf8'), /if \(info_free\)\s+libxl_dominfo_list_free/);
  });

  it('xl list: correct output, and exactly one loss record: realloc ← libxl__realloc ← libxl_list_domain ← main_list ← main', (t) => {
    if (!build) return t.skip('no build');
    const work = makeTempDir('xen-seed');
    const logFile = join(work, 'memcheck.log');
    const r = runUnigrind(['--leak-check=full', `--log-file=${logFile}`, '--xen=sim'], build.xl, ['list'],
      { env: { ...process.env, LD_LIBRARY_PATH: build.libPath } });
    assert.equal(r.status, 0, describeRun(r));
    const sim = new SimHypervisor();
    const rows = r.stdout.toString('utf8').split('\n').filter(Boolean).slice(1).map((l) => l.trim().split(/\s+/).slice(0, 2));
    assert.deepEqual(rows, sim.sortedDomains().map((d) => [d.name ?? '(null)', String(d.id)]), describeRun(r));

    const log = stripPidPrefixes(readFileSync(logFile, 'utf8'));
    const text = log.join('\n');
    // The leak is the run's only error.
    assert.match(text, /ERROR SUMMARY: 1 errors from 1 contexts/, text);
    const heads = log.flatMap((l, i) => (/in loss record \d+ of \d+$/.test(l) ? [i] : []));
    assert.equal(heads.length, 1, text);
    const head = log[heads[0]];
    // One libxl_dominfo per domain, in one block: nothing else of the list was allocated.
    const m = /^(\d+) bytes in 1 blocks are definitely lost in loss record 1 of 1$/.exec(head);
    assert.ok(m, head);
    assert.equal(Number(m[1]) % sim.domains.size, 0, head);

    const frames: Array<[string, string]> = [];
    for (let i = heads[0] + 1; i < log.length; i++) {
      const f = /^ {3}(?:at|by) 0x[0-9A-F]+: (\S+) \((.*)\)$/.exec(log[i]);
      if (!f) break;
      frames.push([f[1], f[2]]);
    }
    // Built with debug_symbols=y: every frame in Xen's code has its file and line, which must be
    // the call on the way to the allocation.
    assert.deepEqual(frames, [
      ['realloc', 'in unigrind:vgpreload_memcheck-amd64-linux.so'],
      ['libxl__realloc', `libxl_internal.c:${lineContaining(build, 'tools/libs/light/libxl_internal.c', 'void *new_ptr = realloc(ptr, new_size);')}`],
      ['libxl_list_domain', `libxl_domain.c:${lineContaining(build, 'tools/libs/light/libxl_domain.c', 'ptr = libxl__realloc(NOGC, ptr, (size + ret) * sizeof(libxl_dominfo));')}`],
      ['main_list', `xl_info.c:${lineContaining(build, 'tools/xl/xl_info.c', 'libxl_list_domain(ctx, &nb_domain);', 'int main_list(int argc, char **argv)')}`],
      ['main', `xl.c:${lineContaining(build, 'tools/xl/xl.c', 'ret = cspec->cmd_impl(argc, argv);')}`],
    ], text);
  });
});
