/**
 * Valgrind XML as the server reads it (the engine's reader, turned into protocol records), on XML
 * written by the real Valgrind at test time (protocol 4) and on a protocol 5/6 document written
 * after Valgrind's specification.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isValgrindXml, parseValgrindXml, type ValgrindRun } from '../../../server/valgrind-xml';
import { FIXTURES, makeWorkspace, runValgrind, type Workspace } from './support/fixture';

describe('valgrind-xml reader', () => {
  let ws: Workspace;
  let leakyXml: string;
  let leaky: ValgrindRun;
  let widget: ValgrindRun;

  before(() => {
    ws = makeWorkspace('unigrind-xml-');
    leakyXml = runValgrind(ws.programs.leaky as string, path.join(ws.dir, 'leaky.xml'), ['--gen-suppressions=all']);
    leaky = parseValgrindXml(leakyXml);
    widget = parseValgrindXml(runValgrind(ws.programs.widget as string, path.join(ws.dir, 'widget.xml'), ['--gen-suppressions=all']));
  });
  after(() => ws.remove());

  it('reads the header and the client argv', () => {
    assert.equal(leaky.document.protocolVersion, 4);
    assert.equal(leaky.document.protocolTool, 'memcheck');
    assert.equal(typeof leaky.document.pid, 'number');
    assert.equal(leaky.document.argv?.exe, ws.programs.leaky);
    assert.equal(leaky.document.complete, true);
  });

  it('reads every error with kind, what and the primary stack', () => {
    const kinds = leaky.errors.map((e) => e.kind).sort();
    assert.deepEqual(kinds, ['InvalidWrite', 'Leak_DefinitelyLost', 'Leak_IndirectlyLost', 'Leak_PossiblyLost', 'Leak_StillReachable', 'SyscallParam', 'UninitCondition']);
    const write = leaky.errors.find((e) => e.kind === 'InvalidWrite')!;
    assert.equal(write.what, 'Invalid write of size 1');
    assert.deepEqual(
      write.stack.map((f) => [f.fn, f.file, f.line]),
      [['overflow', 'leaky.c', 17], ['main', 'leaky.c', 33]],
    );
    assert.equal(write.stack[0]!.dir, ws.dir);
    assert.match(write.stack[0]!.obj ?? '', /leaky$/);
    assert.equal(typeof write.stack[0]!.ip, 'number');
  });

  it('attaches each auxiliary stack to the line before it', () => {
    const write = leaky.errors.find((e) => e.kind === 'InvalidWrite')!;
    assert.equal(write.aux.length, 1);
    assert.match(write.aux[0]!.text, /^Address 0x[0-9a-f]+ is 0 bytes after a block of size 16 alloc'd$/);
    assert.deepEqual(write.aux[0]!.stack?.map((f) => f.fn), ['malloc', 'overflow', 'main']);
    assert.equal(write.aux[0]!.stack?.[1]!.line, 16);
  });

  it('reads leak sizes from xwhat, without separators', () => {
    const possible = leaky.errors.find((e) => e.kind === 'Leak_PossiblyLost')!;
    assert.equal(possible.what, '90,112 bytes in 1 blocks are possibly lost in loss record 4 of 4');
    assert.equal(possible.leakedBytes, 90112);
    assert.equal(possible.leakedBlocks, 1);
    const definite = leaky.errors.find((e) => e.kind === 'Leak_DefinitelyLost')!;
    assert.equal(definite.leakedBytes, 32);
  });

  it('reads generated suppressions with their extra line and mangled frames', () => {
    const param = leaky.errors.find((e) => e.kind === 'SyscallParam')!;
    assert.deepEqual(param.suppression, { kind: 'Memcheck:Param', extra: ['exit_group(status)'], frames: ['fun:_Exit', 'fun:__run_exit_handlers', 'fun:exit', 'fun:(below main)'] });
    const grow = widget.errors.find((e) => e.kind === 'Leak_DefinitelyLost' && e.stack.some((f) => f.line === 11))!;
    assert.equal(grow.stack[1]!.fn, 'gadgets::Widget::grow(unsigned long)');
    assert.deepEqual(grow.suppression?.frames, ['fun:_Znam', 'fun:_ZN7gadgets6Widget4growEm', 'fun:main']);
    assert.deepEqual(grow.suppression?.extra, ['match-leak-kinds: definite']);
  });

  it('takes error counts from <errorcounts> and line numbers of each <error>', () => {
    for (const e of leaky.errors) assert.equal(e.count, 1);
    const lines = leakyXml.split('\n');
    assert.equal(leaky.errorLines.length, leaky.errors.length);
    leaky.errorLines.forEach((line, i) => {
      assert.equal(lines[line - 1]!.trim(), '<error>');
      assert.equal(lines[line]!.trim(), `<unique>0x${leaky.errors[i]!.unique.toString(16)}</unique>`);
    });
  });

  it('reads a document still being written up to its last complete error', () => {
    const cut = leakyXml.indexOf('<kind>Leak_IndirectlyLost</kind>');
    const partial = parseValgrindXml(leakyXml.slice(0, cut));
    assert.equal(partial.document.complete, false);
    const before = leakyXml.slice(0, cut).split('<error>').length - 2; // errors opened before the cut, minus the cut one
    assert.equal(partial.errors.length, before);
    assert.ok(partial.errors.every((e) => e.stack.length > 0));
    assert.equal(partial.errorLines.length, partial.errors.length);
  });

  it('recognises the root element behind a prolog, and rejects other XML', () => {
    assert.equal(isValgrindXml('<?xml version="1.0"?>\n\n<valgrindoutput>\n'), true);
    assert.equal(isValgrindXml('<?xml version="1.0"?>\n<!-- c -->\n<valgrindoutput >'), true);
    assert.equal(isValgrindXml('<?xml version="1.0"?>\n<project><valgrindoutput/></project>'), false);
    assert.throws(() => parseValgrindXml('<project/>'), /not a Valgrind XML document/);
  });

  it('reads protocol 5 fd errors and protocol 6 summaries, and keeps unknown kinds', () => {
    const run = parseValgrindXml(fs.readFileSync(path.join(FIXTURES, 'protocol6.xml'), 'utf8'));
    assert.equal(run.document.protocolVersion, 6);
    assert.deepEqual(run.document.argv, { exe: './server', args: ['--port', '8080'] });
    const fd = run.errors[0]!;
    assert.equal(fd.kind, 'FdBadClose');
    assert.equal(fd.fd, 7);
    assert.equal(fd.threadName, 'worker');
    assert.equal(fd.count, 2);
    assert.equal(fd.aux[0]!.text, 'Previously closed');
    assert.equal(fd.aux[0]!.stack?.[1]!.line, 61);
    assert.equal(run.errors[1]!.kind, 'SomeFutureKind');
    assert.equal(run.errors[1]!.count, 3);
    const doc = run.document;
    assert.deepEqual(doc.heapSummary, { inUseBytes: 91136, inUseBlocks: 3, allocs: 1204, frees: 1201, bytesAllocated: 2097152 });
    assert.equal(doc.allHeapBlocksFreed, false);
    assert.deepEqual(doc.leakSummary?.possible, { bytes: 90112, blocks: 1 });
    assert.deepEqual([doc.leakSummary?.reachable?.bytes, doc.leakSummary?.reachable?.blocks], [1024, 2]);
    assert.deepEqual(doc.errorSummary, { errors: 6, contexts: 3, suppressed: 5, suppressedContexts: 1 });
    assert.deepEqual(doc.suppCounts, [{ name: 'glibc-dl-init', count: 5 }]);
    assert.equal(run.errors[2]!.leakedBytes, 90112);
  });
});
