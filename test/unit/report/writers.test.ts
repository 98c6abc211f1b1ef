/**
 * Text and XML writers on synthetic records: the cases the oracle fixtures do not reach
 * (threads, error markers, limits, heuristics, Nulgrind, command quoting, -v, fullpath-after,
 * xauxwhat, fatal signals, client messages, streaming and close() on an abnormal end).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ErrorFrame } from '../../../engine/errors/error-record';
import { ErrorManager } from '../../../engine/errors/error-manager';
import * as R from '../../../engine/errors/records';
import { reportEndOfRun, reportLeakSearch } from '../../../engine/report/end-of-run';
import { frameText } from '../../../engine/report/frames';
import { MemorySink } from '../../../engine/report/log-target';
import { commandLine } from '../../../engine/report/preamble';
import { TextWriter } from '../../../engine/report/text-writer';
import { readValgrindXml } from '../../../engine/report/xml-reader';
import { elapsedTime, XmlWriter } from '../../../engine/report/xml-writer';

const stack: ErrorFrame[] = [
  { ip: 0x4953350, fn: 'write', obj: '/lib/libc.so.6', dir: './io/../sysdeps/unix/sysv/linux', file: 'write.c', line: 26 },
  { ip: 0x1091c6, fn: 'main', obj: '/p/ex', dir: '/p', file: 'ex.c', line: 16 },
];

function text(options: Partial<ConstructorParameters<typeof TextWriter>[0]> = {}) {
  const sink = new MemorySink();
  const w = new TextWriter({ sink, pid: 42, command: ['./ex'], ...options });
  return { sink, w };
}

describe('text writer', () => {
  it('frame forms', () => {
    assert.equal(frameText({ ip: 0x10, fn: 'f', file: 'a.c', line: 3 }), '0x10: f (a.c:3)');
    assert.equal(frameText({ ip: 0x10, fn: 'f', obj: '/o' }), '0x10: f (in /o)');
    assert.equal(frameText({ ip: 0x10, fn: 'f' }), '0x10: f (in ???)');
    assert.equal(frameText({ ip: 0xabc, obj: '/o' }), '0xABC: ??? (in /o)');
    assert.equal(frameText({ ip: 0x10 }), '0x10: ???');
    assert.equal(frameText(stack[0], { fullpathAfter: ['../'] }), '0x4953350: write (sysdeps/unix/sysv/linux/write.c:26)');
    assert.equal(frameText(stack[1], { fullpathAfter: ['nomatch'] }), '0x1091C6: main (/p/ex.c:16)');
  });

  it('preamble: banner, Parent PID only when logging to a file, -q prints none; Nulgrind', () => {
    const a = text({ toFile: true, ppid: 7, command: ['./ex', 'a b', 'c\\d'] });
    a.w.preamble();
    const lines = a.sink.text.split('\n');
    assert.equal(lines[0], '==42== Memcheck, a memory error detector');
    assert.equal(lines[3], '==42== Command: ./ex a\\ b c\\\\d');
    assert.equal(lines[4], '==42== Parent PID: 7');
    assert.equal(lines[5], '==42== ');
    const b = text();
    b.w.preamble();
    assert.ok(!b.sink.text.includes('Parent PID'));
    const q = text({ verbosity: 0 });
    q.w.preamble();
    assert.equal(q.sink.text, '');
    const n = text({ tool: 'none' });
    n.w.preamble();
    assert.ok(n.sink.text.startsWith('==42== Nulgrind, the minimal Valgrind tool\n'));
    const v = text({ verbosity: 2, toolArgs: ['-v', '--log-fd=2'] });
    v.w.preamble();
    assert.ok(v.sink.text.endsWith('==42== \n--42-- Valgrind options:\n--42--    -v\n--42--    --log-fd=2\n'));
    assert.equal(commandLine(['./x', 'é<'], 'xml'), 'Command: ./x __<');
  });

  it('errors: thread changes, markers, suppression output', () => {
    const { sink, w } = text({ errorMarkers: { begin: '[[[', end: ']]]' }, genSuppressions: 'yes' });
    w.error(R.syscallParamMemory('write(buf)', false, { stack, tid: 1 }));
    w.error(R.uninitCondition({ stack, tid: 2, threadName: 'worker' }));
    w.error(R.uninitCondition({ stack, tid: 2 }));
    const out = sink.text;
    assert.ok(out.startsWith('==42== [[[\n==42== Syscall param write(buf) points to uninitialised byte(s)\n'
      + '==42==    at 0x4953350: write (write.c:26)\n==42==    by 0x1091C6: main (ex.c:16)\n==42== \n==42== ]]]\n'
      + '{\n   <insert_a_suppression_name_here>\n   Memcheck:Param\n   write(buf)\n   fun:write\n   fun:main\n}\n'));
    assert.equal(out.split('Thread 2 worker:').length, 2, 'the thread is named once');
    assert.ok(!out.includes('Thread 1'));
  });

  it('limit messages', () => {
    const m = new ErrorManager({ limits: { slowAfter: 1, maxShown: 2 } });
    const { sink, w } = text();
    w.attach(m);
    for (let i = 0; i < 4; i++) m.report(R.uninitCondition({ stack: [{ ip: i, fn: 'main' }] }));
    assert.ok(sink.text.includes('==42== \n==42== More than 1 errors detected.  Subsequent errors\n==42== will still be recorded, but in less detail than before.\n'));
    assert.ok(sink.text.includes("==42== \n==42== More than 2 different errors detected.  I'm not reporting any more.\n"
      + '==42== Final error counts will be inaccurate.  Go fix your program!\n'
      + '==42== Rerun with --error-limit=no to disable this cutoff.  Note\n'
      + '==42== that errors may occur in your program without prior warning from\n'
      + '==42== Valgrind, because errors are no longer being displayed.\n==42== \n'));
  });

  it('end of run: heap summary with separators, heuristics, hints, error summary', () => {
    const m = new ErrorManager();
    const { sink, w } = text();
    w.attach(m);
    m.report(R.uninitValue(8, { stack }));
    reportEndOfRun({
      manager: m, text: w, leakCheck: 'full',
      heap: { inUseBytes: 1234567, inUseBlocks: 1001, allocs: 2000, frees: 999, bytesAllocated: 72736 },
      lossRecords: [{ state: 'reachable', stack, bytes: 1234567, indirectBytes: 0, blocks: 1001 }],
      heuristics: [{ name: 'stdstring', bytes: 64, blocks: 2 }, { name: 'newarray', bytes: 0, blocks: 0 }],
    });
    const tail = sink.text.slice(sink.text.indexOf('==42== \n==42== HEAP SUMMARY'));
    assert.equal(tail, [
      '==42== ', '==42== HEAP SUMMARY:',
      '==42==     in use at exit: 1,234,567 bytes in 1,001 blocks',
      '==42==   total heap usage: 2,000 allocs, 999 frees, 72,736 bytes allocated', '==42== ',
      '==42== LEAK SUMMARY:',
      '==42==    definitely lost: 0 bytes in 0 blocks',
      '==42==    indirectly lost: 0 bytes in 0 blocks',
      '==42==      possibly lost: 0 bytes in 0 blocks',
      '==42==    still reachable: 1,234,567 bytes in 1,001 blocks',
      '==42==                       of which reachable via heuristic:',
      '==42==                         stdstring          : 64 bytes in 2 blocks',
      '==42==         suppressed: 0 bytes in 0 blocks',
      '==42== Reachable blocks (those to which a pointer was found) are not shown.',
      '==42== To see them, rerun with: --leak-check=full --show-leak-kinds=all', '==42== ',
      '==42== Use --track-origins=yes to see where uninitialised values come from',
      '==42== For lists of detected and suppressed errors, rerun with: -s',
      '==42== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)', '',
    ].join('\n'));
  });

  it('a delta leak search (VALGRIND_DO_CHANGED_LEAK_CHECK): every summary figure with its change, heuristics gone to zero kept', () => {
    const m = new ErrorManager();
    const { sink, w } = text();
    w.attach(m);
    const previous = reportLeakSearch({
      manager: m, records: [{ state: 'reachable', stack, bytes: 100, indirectBytes: 0, blocks: 2 }],
      heuristics: [{ name: 'stdstring', bytes: 64, blocks: 2 }], params: { mode: 'full', showKinds: new Set(), errorsForKinds: new Set() },
    });
    reportLeakSearch({
      manager: m, text: w, previous,
      records: [{ state: 'reachable', stack, bytes: 0, indirectBytes: 0, blocks: 0, old: { bytes: 100, indirectBytes: 0, blocks: 2 } },
        { state: 'definite', stack: stack.slice(1), bytes: 1000, indirectBytes: 0, blocks: 1 }],
      heuristics: [{ name: 'stdstring', bytes: 0, blocks: 0 }],
      params: { mode: 'full', delta: 'changed', showKinds: new Set(['definite', 'reachable']), errorsForKinds: new Set(['definite']) },
    });
    assert.equal(sink.text, [
      '==42== 0 (-100) bytes in 0 (-2) blocks are still reachable in loss record 1 of 2',
      '==42==    at 0x4953350: write (write.c:26)', '==42==    by 0x1091C6: main (ex.c:16)', '==42== ',
      '==42== 1,000 (+1,000) bytes in 1 (+1) blocks are definitely lost in loss record 2 of 2',
      '==42==    at 0x1091C6: main (ex.c:16)', '==42== ',
      '==42== LEAK SUMMARY:',
      '==42==    definitely lost: 1,000 (+1,000) bytes in 1 (+1) blocks',
      '==42==    indirectly lost: 0 (+0) bytes in 0 (+0) blocks',
      '==42==      possibly lost: 0 (+0) bytes in 0 (+0) blocks',
      '==42==    still reachable: 0 (-100) bytes in 0 (-2) blocks',
      '==42==                       of which reachable via heuristic:',
      '==42==                         stdstring          : 0 (-64) bytes in 0 (-2) blocks',
      '==42==         suppressed: 0 (+0) bytes in 0 (+0) blocks', '==42== ', '',
    ].join('\n'));
  });

  it('--leak-check=no, --tool=none and fatal signals', () => {
    const m = new ErrorManager();
    const a = text();
    reportEndOfRun({ manager: m, text: a.w, leakCheck: 'no', heap: { inUseBytes: 1, inUseBlocks: 1, allocs: 1, frees: 0, bytesAllocated: 1 } });
    assert.ok(a.sink.text.includes('==42== For a detailed leak analysis, rerun with: --leak-check=full\n==42== \n==42== For lists'));
    const n = text({ tool: 'none' });
    reportEndOfRun({ manager: m, text: n.w, tool: 'none' });
    assert.equal(n.sink.text, '==42== \n');
    const f = text({ verbosity: 0 });
    f.w.fatalSignal({ tid: 1, signo: 6, signame: 'SIGABRT', sicode: -6, stack });
    assert.equal(f.sink.text, '', 'a raised SIGABRT is not reported at -q');
    f.w.fatalSignal({ tid: 1, signo: 11, signame: 'SIGSEGV', sicode: 2, event: 'Bad permissions for mapped region', address: 0x400000, stack, core: true });
    assert.ok(f.sink.text.startsWith('==42== \n==42== Process terminating with default action of signal 11 (SIGSEGV): dumping core\n'
      + '==42==  Bad permissions for mapped region at address 0x400000\n==42==    at 0x4953350'));
  });
});

function xml(options: Partial<ConstructorParameters<typeof XmlWriter>[0]> = {}) {
  const sink = new MemorySink();
  let t = 0;
  const w = new XmlWriter({ sink, pid: 9, ppid: 8, command: ['./ex', 'a&b'], launcher: '/usr/bin/unigrind', toolArgs: ['--xml=yes'], clock: () => (t += 1500), ...options });
  return { sink, w };
}

describe('XML writer', () => {
  it('time format has Valgrind\'s trailing space', () => {
    assert.equal(elapsedTime(115), '00:00:00:00.115 ');
    assert.equal(elapsedTime(((2 * 24 + 3) * 3600 + 4 * 60 + 5) * 1000 + 6), '02:03:04:05.006 ');
  });

  it('a document cut short is finished by close(reason), well-formed and readable', () => {
    const m = new ErrorManager({ xml: true });
    const { sink, w } = xml({ xmlFileTemplate: 'out.%q{ROLE}.xml', env: { ROLE: 'dom<0>' }, userComment: '<c>hi</c>' });
    w.attach(m);
    w.preamble();
    m.report(R.invalidAccess(false, 4, { stack, aux: [{ text: 'Location 0x1 is 0 bytes inside local var "x"', role: 'address' },
      { text: 'declared at ex.c:5, in frame #0 of thread 1', source: { file: 'ex.c', line: 5 } }] }));
    m.report(R.fishyValue('malloc', 'size', -1, { stack }));
    m.report(R.overlap('strcpy', 1, 2, undefined, { stack }));
    const partial = sink.text;
    assert.equal(XMLValidator.validate(partial) === true, false, 'not closed yet');
    const partialDoc = readValgrindXml(partial);
    assert.equal(partialDoc.complete, false);
    assert.equal(partialDoc.errors.length, 3, 'a reader sees every error written so far');
    w.close('SIGTERM');
    w.close('again');
    const doc = sink.text;
    assert.equal(XMLValidator.validate(doc), true);
    assert.ok(doc.includes('<logfilequalifier> <var>ROLE</var> <value>dom&lt;0&gt;</value> </logfilequalifier>\n<usercomment><c>hi</c></usercomment>\n'));
    assert.ok(doc.includes('<line>Command: ./ex a&amp;b</line>'));
    assert.ok(doc.includes("fishy (possibly negative) value: -1\n</what>  <stack>"));
    assert.ok(doc.includes('overlap in strcpy(0x1, 0x2)\n</what>\n  <stack>'));
    assert.ok(doc.includes('  <xauxwhat><text>declared at ex.c:5, in frame #0 of thread 1</text> <file>ex.c</file> <line>5</line> </xauxwhat>\n'));
    assert.ok(doc.includes('<state>FINISHED</state>\n  <time>00:00:00:03.000 </time>'));
    assert.ok(doc.includes('<!-- unigrind: SIGTERM -->\n\n</valgrindoutput>\n\n'));
    assert.equal(doc.split('</valgrindoutput>').length, 2, 'closed once');
    const parsed = new XMLParser().parse(doc);
    assert.equal(parsed.valgrindoutput.protocolversion, 4);
    assert.equal(parsed.valgrindoutput.errorcounts.pair.length, 3);
    const back = readValgrindXml(doc);
    assert.equal(back.complete, true);
    assert.deepEqual(back.errorCounts.map((c) => c.unique), [2, 1, 0]);
    assert.deepEqual(back.errors[1].record.fishy, { fn: 'malloc', arg: 'size', value: -1 });
    assert.deepEqual(back.errors[0].record.aux[1].source, { file: 'ex.c', line: 5 });
  });

  it('fatal signals, client messages and abort for --exit-on-first-error', () => {
    const { sink, w } = xml();
    w.preamble();
    w.clientMessage({ tid: 1, text: 'hello <world>', stack });
    w.fatalSignal({ tid: 1, signo: 11, signame: 'SIGSEGV', sicode: 1, event: 'Access not within mapped region', address: 0, stack });
    w.abort();
    w.close();
    assert.ok(sink.text.endsWith('</fatal_signal>\n\n</valgrindoutput>\n'));
    assert.equal(XMLValidator.validate(sink.text), true);
    const doc = readValgrindXml(sink.text);
    assert.equal(doc.clientMessages[0].text, 'hello <world>');
    assert.deepEqual(doc.fatalSignals.map((s) => [s.signame, s.address, s.stack.length]), [['SIGSEGV', 0, 2]]);
  });
});
