/** `npm run demo`, the README's first command, must build the example and show memcheck's findings and the fatal-signal report. */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT } from '../support/paths';
import { describeRun, run, stripPidPrefixes } from '../support/run';

it('the demo builds the example and shows a symbolized SIGSEGV report', () => {
  const r = run(process.execPath, [join(REPO_ROOT, 'dist/test/support/demo.js')]);
  assert.equal(r.status, 0, describeRun(r));
  const lines = stripPidPrefixes(r.stderr);
  assert.ok(lines.includes('Process terminating with default action of signal 11 (SIGSEGV)'), describeRun(r));
  // The crash is in greet(), called from main(): both frames named, with their source lines.
  assert.ok(lines.some((l) => /^ {3}at 0x[0-9A-F]+: greet \(demo\.c:\d+\)$/.test(l)), describeRun(r));
  assert.ok(lines.some((l) => /^ {3}by 0x[0-9A-F]+: main \(demo\.c:\d+\)$/.test(l)), describeRun(r));
  // memcheck's findings on the example: the overflow, and the leak with its allocation stack.
  assert.ok(lines.some((l) => /^Invalid (write|read) of size \d+$/.test(l)), describeRun(r));
  assert.ok(lines.some((l) => /bytes in \d+ blocks are definitely lost in loss record/.test(l)), describeRun(r));
});
