/**
 * The oracle test: small C/C++ programs run under the real Valgrind 3.19; its XML is read back
 * into error records, replayed through unigrind's ErrorManager and writers, and the output must
 * equal Valgrind's own XML and text log byte for byte — except the two banner identity lines
 * (masked; see engine/report/preamble.ts). Pids, ppids, arguments and `<time>` values are taken
 * from the document being compared, so they are reproduced rather than masked.
 *
 * What this proves: record reading, dedupe and counts, suppression parsing and matching, leak
 * record ordering and LEAK SUMMARY arithmetic, generated suppressions, and both writers' layout.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { LeakState } from '../../../engine/errors/error-record';
import { parseSuppressions } from '../../../engine/errors/suppressions';
import type { ValgrindXmlDocument } from '../../../engine/report/xml-reader';
import { readValgrindXml } from '../../../engine/report/xml-reader';
import { build, FIXTURES, haveTools, maskIdentity, replay, scratch, valgrind } from './oracle-helpers';

const PROGRAMS = ['heap', 'uninit', 'overlap', 'leaks', 'mismatch', 'clean', 'segv'];
const FULL = ['--leak-check=full', '--show-leak-kinds=all'];

interface Runs {
  base: ValgrindXmlDocument;
  xml: string;
  text: string;
  genXml: string;
  genText: string;
  suppXml: string;
  suppText: string;
  defaultText: string;
  quietXml: string;
  quietText: string;
}

const skip = haveTools() ? false : 'valgrind or gcc is not installed';
const runs = new Map<string, Runs>();

describe('oracle: Valgrind 3.19 vs unigrind writers', { skip }, () => {
  before(async () => {
    fs.copyFileSync(path.join(FIXTURES, 'oracle.supp'), path.join(scratch(), 'oracle.supp'));
    await Promise.all(PROGRAMS.map(async (p) => {
      await build(p);
      const supp = [...FULL, '-s', '--suppressions=oracle.supp'];
      const [x, t, gx, gt, sx, st, d, qx, qt] = await Promise.all([
        valgrind(p, FULL, 'x', true),
        valgrind(p, FULL, 't', false),
        valgrind(p, [...FULL, '--gen-suppressions=all'], 'gx', true),
        valgrind(p, [...FULL, '--gen-suppressions=all'], 'gt', false),
        valgrind(p, supp, 'sx', true),
        valgrind(p, supp, 'st', false),
        valgrind(p, [], 'd', false),
        valgrind(p, ['-q', ...FULL], 'qx', true),
        valgrind(p, ['-q', '--leak-check=full'], 'qt', false),
      ]);
      runs.set(p, {
        base: readValgrindXml(x.xml ?? ''), xml: x.xml ?? '', text: t.text,
        genXml: gx.xml ?? '', genText: gt.text, suppXml: sx.xml ?? '', suppText: st.text,
        defaultText: d.text, quietXml: qx.xml ?? '', quietText: qt.text,
      });
    }));
  });

  after(() => {
    fs.rmSync(scratch(), { recursive: true, force: true });
  });

  const get = (p: string): Runs => {
    const r = runs.get(p);
    if (!r) throw new Error(`no valgrind runs for ${p}`);
    return r;
  };

  for (const p of PROGRAMS) {
    describe(p, () => {
      it('XML equals Valgrind\'s', () => {
        const r = get(p);
        assert.equal(r.base.complete, true);
        assert.equal(maskIdentity(replay({ doc: r.base })), maskIdentity(r.xml));
      });

      it('text log equals Valgrind\'s', () => {
        const r = get(p);
        assert.equal(maskIdentity(replay({ doc: r.base, textLog: r.text })), maskIdentity(r.text));
      });

      it('--gen-suppressions=all output equals Valgrind\'s (XML and text)', () => {
        const r = get(p);
        const doc = readValgrindXml(r.genXml);
        assert.equal(maskIdentity(replay({ doc, genSuppressions: true })), maskIdentity(r.genXml));
        assert.equal(maskIdentity(replay({ doc, textLog: r.genText, genSuppressions: true })), maskIdentity(r.genText));
      });

      it('suppressions and -s: same counts, listing and used_suppression lines', () => {
        const r = get(p);
        // The suppressed errors are absent from the suppressed run, so the records come from
        // the unsuppressed run and unigrind must find the same suppressions Valgrind did.
        // used_suppression names the file as it was given on the command line.
        const supps = () => parseSuppressions(fs.readFileSync(path.join(FIXTURES, 'oracle.supp'), 'latin1'), 'oracle.supp');
        const suppDoc = readValgrindXml(r.suppXml);
        assert.equal(maskIdentity(replay({ doc: r.base, timesFrom: suppDoc, suppressions: supps(), showErrorList: true })), maskIdentity(r.suppXml));
        assert.equal(maskIdentity(replay({ doc: r.base, textLog: r.suppText, suppressions: supps(), showErrorList: true })), maskIdentity(r.suppText));
      });

      it('default options (leak summary only) text equals Valgrind\'s', () => {
        const r = get(p);
        const lossRecords = r.base.errors.filter((e) => e.record.leak).map((e) => ({
          state: e.record.leak!.state, stack: e.record.stack, bytes: e.record.leak!.bytes,
          indirectBytes: e.record.leak!.indirectBytes, blocks: e.record.leak!.blocks,
        }));
        const out = replay({
          doc: r.base, textLog: r.defaultText, leakCheck: 'summary',
          showLeakKinds: new Set<LeakState>(['definite', 'possible']), lossRecords,
        });
        assert.equal(maskIdentity(out), maskIdentity(r.defaultText));
      });

      it('-q: XML without <suppcounts>, text with errors only', () => {
        const r = get(p);
        assert.equal(maskIdentity(replay({ doc: r.base, timesFrom: readValgrindXml(r.quietXml), verbosity: 0 })), maskIdentity(r.quietXml));
        const out = replay({ doc: r.base, textLog: r.quietText, verbosity: 0, showLeakKinds: new Set<LeakState>(['definite', 'possible']) });
        assert.equal(out, r.quietText);
      });
    });
  }

  it('the fixtures exercise every kind the brief lists', () => {
    const kinds = new Set<string>();
    for (const p of PROGRAMS) for (const e of get(p).base.errors) kinds.add(e.record.kind);
    for (const k of ['InvalidRead', 'InvalidWrite', 'InvalidFree', 'MismatchedFree', 'Overlap', 'FishyValue',
      'UninitCondition', 'UninitValue', 'SyscallParam', 'Leak_DefinitelyLost', 'Leak_IndirectlyLost',
      'Leak_PossiblyLost', 'Leak_StillReachable']) {
      assert.ok(kinds.has(k), `no ${k} among the fixtures' errors`);
    }
  });
});
