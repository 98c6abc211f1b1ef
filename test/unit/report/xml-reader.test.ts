/**
 * The XML reader on protocol 6 (newer kinds, fd errors, summaries), unknown kinds and elements,
 * a top-level suppression, a truncated document, and the 3.19 quirks. Protocol 4 documents are
 * read in the oracle tests.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { readValgrindXml } from '../../../engine/report/xml-reader';
import { parseXmlTree, textOf } from '../../../engine/report/xml-tree';

const FIXTURE = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'report', 'protocol6.xml');

describe('xml reader', () => {
  const doc = readValgrindXml(fs.readFileSync(FIXTURE, 'utf8'));

  it('reads the header of any protocol version', () => {
    assert.equal(doc.protocolVersion, 6);
    assert.equal(doc.protocolTool, 'memcheck');
    assert.deepEqual(doc.argv, { exe: './prog', args: ['--flag'] });
    assert.deepEqual(doc.vargv, { exe: '/usr/bin/valgrind.bin', args: ['--xml=yes'] });
    assert.deepEqual([doc.pid, doc.ppid], [100, 99]);
    assert.deepEqual(doc.status.map((s) => s.state), ['RUNNING', 'FINISHED']);
    assert.equal(doc.complete, true);
  });

  it('reads newer kinds, fd errors and thread names; keeps unknown kinds aside', () => {
    assert.deepEqual(doc.errors.map((e) => [e.unique, e.record.kind, e.afterFinished]),
      [[0, 'ReallocSizeZero', false], [1, 'FdNotClosed', false], [3, 'Leak_DefinitelyLost', true]]);
    const r0 = doc.errors[0].record;
    assert.equal(r0.threadName, 'main-loop');
    assert.equal(r0.aux[0].role, 'address');
    assert.deepEqual(r0.aux[0].stack, [{ ip: 0x4841888, fn: 'malloc' }]);
    assert.deepEqual(doc.errors[1].record.fd, { fd: 3, path: '/tmp/out.txt' });
    assert.deepEqual(doc.unknownErrors, [{ unique: 2, kind: 'SomeFutureKind', what: 'Something new', stack: [], aux: [], tid: 1, line: 79, complete: true }]);
    assert.deepEqual(doc.errors.map((e) => [e.line, e.complete]), [[33, true], [64, true], [122, true]]);
    assert.deepEqual(doc.errors[2].record.leak, { state: 'definite', bytes: 1000, indirectBytes: 24, blocks: 2, recordNo: 1, totalRecords: 1 });
  });

  it('keeps the top-level suppression as an event, in order', () => {
    const types = doc.events.map((e) => e.type);
    assert.deepEqual(types, ['status', 'error', 'error', 'unknown-error', 'suppression', 'status', 'error']);
    const s = doc.events[4];
    assert.ok(s.type === 'suppression');
    assert.equal(s.suppression.kind, 'Memcheck:ReallocZero');
    assert.equal(s.suppression.rawText, '{\n   <insert_a_suppression_name_here>\n   Memcheck:ReallocZero\n   fun:realloc\n   fun:main\n}\n');
  });

  it('reads protocol 6 summaries, thousands separators included', () => {
    assert.deepEqual(doc.heapSummary, { inUseBytes: 1024, inUseBlocks: 2, allocs: 5, frees: 3, bytesAllocated: 2048 });
    assert.equal(doc.allHeapBlocksFreed, false);
    assert.deepEqual(doc.leakSummary?.definite, { bytes: 1000, blocks: 2 });
    assert.deepEqual(doc.leakSummary?.reachable?.heuristics, [{ kind: 'stdstring', bytes: 32, blocks: 1 }]);
    assert.deepEqual(doc.errorSummary, { errors: 3, contexts: 2, suppressed: 4, suppressedContexts: 1 });
    assert.deepEqual(doc.suppCounts, [{ count: 4, name: 'some & name' }]);
    assert.deepEqual(doc.errorCounts, [{ count: 2, unique: 0 }]);
  });

  it('a truncated document yields the errors it holds', () => {
    const text = fs.readFileSync(FIXTURE, 'utf8');
    const cut = text.slice(0, text.indexOf('<kind>FdNotClosed') + 5);
    const d = readValgrindXml(cut);
    assert.equal(d.complete, false);
    assert.deepEqual(d.errors.map((e) => e.record.kind), ['ReallocSizeZero']);
    // The error the cut fell into is read as far as it goes, and says so.
    assert.deepEqual(d.unknownErrors.map((e) => [e.kind, e.complete]), [['', false]]);
    assert.equal(d.errors[0].record.stack.length, 2);
  });

  it('mangled names come from the generated suppression of an error', () => {
    const d = readValgrindXml(`<?xml version="1.0"?><valgrindoutput><error><unique>0x4</unique><tid>1</tid>
      <kind>Leak_DefinitelyLost</kind><xwhat><text>4 bytes in 1 blocks are definitely lost in loss record 1 of 1</text>
      <leakedbytes>4</leakedbytes><leakedblocks>1</leakedblocks></xwhat>
      <stack><frame><ip>0x4841F2F</ip><fn>operator new(unsigned long)</fn></frame><frame><ip>0x1091F9</ip><fn>main</fn></frame></stack>
      <suppression><sname>insert_a_suppression_name_here</sname><skind>Memcheck:Leak</skind><skaux>match-leak-kinds: definite</skaux>
      <sframe> <fun>_Znwm</fun> </sframe><sframe> <fun>main</fun> </sframe></suppression></error></valgrindoutput>`);
    assert.equal(d.errors[0].record.stack[0].mangled, '_Znwm');
    assert.equal(d.errors[0].record.stack[1].mangled, undefined);
    assert.equal(d.errors[0].suppression?.extra, 'match-leak-kinds: definite');
  });

  it('the tree builder decodes references and CDATA, and tolerates stray end tags', () => {
    const t = parseXmlTree('<a x="1 &amp; 2">t&lt;&#65;&#x42;<![CDATA[<raw>]]></b><c/></a>');
    const a = t.children[0];
    assert.ok(typeof a !== 'string');
    assert.equal(a.attributes.x, '1 & 2');
    assert.equal(textOf(a), 't<AB<raw>');
    assert.equal(a.closed, true);
  });
});
