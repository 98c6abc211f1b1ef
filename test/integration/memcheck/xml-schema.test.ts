/**
 * The protocol-4 validator (test/support/valgrind-xml-schema.ts) must reject what it is there to
 * catch. Every Valgrind document of the oracle tests passes it (fixtures.test.ts checks that);
 * here a small document in Valgrind 3.19's exact layout passes, and each kind of damage a
 * crashed or careless writer could do is found and named.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { validateValgrindXml } from '../../support/valgrind-xml-schema';

/** A complete document as Valgrind 3.19 writes it (an invalid read and one leak). */
const GOOD = `<?xml version="1.0"?>

<valgrindoutput>

<protocolversion>4</protocolversion>
<protocoltool>memcheck</protocoltool>

<preamble>
  <line>Memcheck, a memory error detector</line>
  <line>Command: ./example</line>
</preamble>

<pid>6263</pid>
<ppid>6261</ppid>
<tool>memcheck</tool>

<args>
  <vargv>
    <exe>/usr/bin/valgrind.bin</exe>
    <arg>--xml=yes</arg>
  </vargv>
  <argv>
    <exe>./example</exe>
  </argv>
</args>

<status>
  <state>RUNNING</state>
  <time>00:00:00:00.115 </time>
</status>

<error>
  <unique>0x0</unique>
  <tid>1</tid>
  <kind>FishyValue</kind>
  <what>Argument 'size' of function malloc has a fishy (possibly negative) value: -5
</what>  <stack>
    <frame>
      <ip>0x48417B4</ip>
      <obj>/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so</obj>
      <fn>malloc</fn>
    </frame>
    <frame>
      <ip>0x10922D</ip>
      <obj>/home/dev/example/example</obj>
      <fn>main</fn>
      <dir>/home/dev/example</dir>
      <file>example.c</file>
      <line>21</line>
    </frame>
  </stack>
  <suppression>
    <sname>insert_a_suppression_name_here</sname>
    <skind>Memcheck:FishyValue</skind>
    <skaux>malloc(size)</skaux>
    <sframe> <fun>malloc</fun> </sframe>
    <sframe> <fun>main</fun> </sframe>
    <rawtext>
<![CDATA[
{
   <insert_a_suppression_name_here>
   Memcheck:FishyValue
   malloc(size)
   fun:malloc
   fun:main
}
]]>
    </rawtext>
  </suppression>
</error>

<fatal_signal>
  <tid>1</tid>
  <signo>11</signo>
  <signame>SIGSEGV</signame>
  <sicode>1</sicode>
  <event>Access not within mapped region</event>
  <siaddr>0x10</siaddr>
  <stack>
    <frame>
      <ip>0x10919D</ip>
    </frame>
  </stack>
</fatal_signal>


<status>
  <state>FINISHED</state>
  <time>00:00:00:00.778 </time>
</status>

<error>
  <unique>0x1</unique>
  <tid>1</tid>
  <kind>Leak_DefinitelyLost</kind>
  <xwhat>
    <text>32 (16 direct, 16 indirect) bytes in 1 blocks are definitely lost in loss record 1 of 1</text>
    <leakedbytes>32</leakedbytes>
    <leakedblocks>1</leakedblocks>
  </xwhat>
  <stack>
    <frame>
      <ip>0x48417B4</ip>
      <fn>malloc</fn>
    </frame>
  </stack>
</error>

<errorcounts>
  <pair>
    <count>1</count>
    <unique>0x0</unique>
  </pair>
</errorcounts>

<suppcounts>
</suppcounts>

</valgrindoutput>

`;

/** GOOD with one replacement made (the text must be there). */
function damaged(from: string | RegExp, to: string): string {
  const out = GOOD.replace(from, to);
  assert.notEqual(out, GOOD, `no ${String(from)} in the sample`);
  return out;
}

function assertProblem(doc: string, re: RegExp): void {
  const problems = validateValgrindXml(doc);
  assert.ok(problems.some((p) => re.test(p)), `expected a problem matching ${re}, got ${JSON.stringify(problems)}`);
}

describe('the protocol-4 validator', () => {
  it('accepts a document in Valgrind 3.19\'s layout', () => {
    assert.deepStrictEqual(validateValgrindXml(GOOD), []);
  });
  it('rejects a document cut short (a killed writer)', () => {
    assertProblem(GOOD.slice(0, GOOD.indexOf('<status>\n  <state>FINISHED')), /not well-formed: document ends inside <valgrindoutput>/);
  });
  it('rejects mismatched tags, a bare "&" and text after the root', () => {
    assertProblem(damaged('</fn>\n    </frame>\n    <frame>', '</file>\n    </frame>\n    <frame>'), /not well-formed: end tag <\/file> closes <fn>/);
    assertProblem(damaged('<fn>main</fn>', '<fn>a & b</fn>'), /bare '&'/);
    assertProblem(GOOD + 'trailing', /text outside the root/);
  });
  it('rejects a missing FINISHED status and elements out of order', () => {
    assertProblem(damaged(/<status>\n {2}<state>FINISHED<\/state>\n {2}<time>[^<]*<\/time>\n<\/status>/, ''), /expected <status>/);
    assertProblem(damaged('<pid>6263</pid>\n<ppid>6261</ppid>', '<ppid>6261</ppid>\n<pid>6263</pid>'), /expected <pid>, found <ppid>/);
  });
  it('checks field types: INT, HEX64, the time stamp, the protocol version', () => {
    assertProblem(damaged('<tid>1</tid>', '<tid>one</tid>'), /\/error\/tid: "one" is not an INT/);
    assertProblem(damaged('<unique>0x0</unique>\n  <tid>', '<unique>0</unique>\n  <tid>'), /\/error\/unique: "0" is not a HEX64/);
    assertProblem(damaged('<time>00:00:00:00.115 </time>', '<time>0.115s</time>'), /\/status\/time/);
    assertProblem(damaged('<protocolversion>4</protocolversion>', '<protocolversion>6</protocolversion>'), /protocol 6, expected 4/);
  });
  it('checks errors: a known kind, what or xwhat, a stack of frames, leak numbers', () => {
    assertProblem(damaged('<kind>FishyValue</kind>', '<kind>Fishy</kind>'), /"Fishy" is not a kind of protocol 4/);
    assertProblem(damaged('<leakedblocks>1</leakedblocks>\n', ''), /\/xwhat: expected <leakedblocks>/);
    assertProblem(damaged('<frame>\n      <ip>0x10919D</ip>\n    </frame>', ''), /a stack needs at least one <frame>/);
    assertProblem(damaged('<ip>0x10922D</ip>\n      <obj>/home/dev/example/example</obj>\n      <fn>main</fn>', '<ip>0x10922D</ip>\n      <fn>main</fn>\n      <obj>/home/dev/example/example</obj>'), /\/frame: unexpected <obj>/);
  });
  it('checks the suppression and the counts', () => {
    assertProblem(damaged('<skind>Memcheck:FishyValue</skind>', '<skind>FishyValue</skind>'), /\/skind: "FishyValue" is not Tool:Kind/);
    assertProblem(damaged('<count>1</count>\n    <unique>0x0</unique>', '<count>1</count>\n    <unique>0x7</unique>'), /counts <unique>0x7<\/unique>, no such error/);
    assertProblem(damaged('<unique>0x1</unique>', '<unique>0x0</unique>'), /<unique>0x0<\/unique> repeats/);
  });
});
