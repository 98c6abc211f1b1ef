/** --log-file / --xml-file expansion and sinks. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expandFileName, fileQualifiers, LogFileNameError, openLogTarget } from '../../../engine/report/log-target';

describe('log targets', () => {
  const ctx = { pid: 1234, env: { HOST: 'dom0', EMPTY: '' }, cwd: '/work' };

  it('expands %p, %n, %q{VAR} and %%, and anchors relative names at the startup directory', () => {
    assert.equal(expandFileName('--log-file', 'vg.%p.log', ctx), '/work/vg.1234.log');
    assert.equal(expandFileName('--log-file', '/tmp/%q{HOST}-%p-%%-%n.txt', { ...ctx, sequence: 3 }), '/tmp/dom0-1234-%-3.txt');
    assert.equal(expandFileName('--xml-file', '/tmp/x%q{EMPTY}y', ctx), '/tmp/xy');
  });

  it('rejects what Valgrind rejects, with its reasons', () => {
    const reason = (t: string) => {
      try { expandFileName('--log-file', t, ctx); } catch (e) { if (e instanceof LogFileNameError) return e.reason.split('\n')[0]; throw e; }
      return 'accepted';
    };
    assert.equal(reason(''), 'No filename given');
    assert.equal(reason('~/x'), "Filename begins with '~'");
    assert.equal(reason('x%q{NOPE}'), "Environment variable 'NOPE' is not set");
    assert.equal(reason('x%q{HOST'), "Missing '}' in %q specifier");
    assert.equal(reason('x%qHOST'), "Expected '{' after '%q'");
    assert.equal(reason('x%d'), "Expected 'p' or 'q' or '%' after '%'");
  });

  it('lists %q qualifiers for the XML header', () => {
    assert.deepEqual(fileQualifiers('a%q{HOST}b%q{EMPTY}', ctx.env), [{ name: 'HOST', value: 'dom0' }, { name: 'EMPTY', value: '' }]);
  });

  it('a file target is created, written synchronously and closed', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-log-'));
    try {
      const t = openLogTarget({ file: 'out.%p', option: '--log-file' }, { pid: 7, cwd: dir });
      assert.equal(t.toFile, true);
      assert.equal(t.file, path.join(dir, 'out.7'));
      t.sink.write('==7== a\n');
      assert.equal(fs.readFileSync(path.join(dir, 'out.7'), 'utf8'), '==7== a\n', 'visible before close');
      t.sink.close();
      t.sink.close();
      assert.equal(openLogTarget({ fd: 2 }, { pid: 7 }).toFile, false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
