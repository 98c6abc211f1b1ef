/** Launch attributes → CLI options: one validation shared with the CLI, errors naming the attribute. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LaunchArguments, LaunchError, toCommandLine } from '../../../adapter/launch-config';

const dir = mkdtempSync(join(tmpdir(), 'unigrind-launch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The attribute a bad configuration is blamed on. */
function blamed(cfg: Record<string, unknown>): string {
  try {
    toCommandLine(cfg as unknown as LaunchArguments);
  } catch (e) {
    assert.ok(e instanceof LaunchError, `not a LaunchError: ${String(e)}`);
    assert.match(e.message, new RegExp(`^launch attribute '${e.attribute}': `));
    return e.attribute;
  }
  assert.fail('accepted');
}

describe('launch configuration', () => {
  it('turns attributes into options the CLI parser accepts', () => {
    const c = toCommandLine({
      program: 'prog', args: ['a', 'b c'], cwd: dir, env: { ADDED: 'x', HOME: null }, stopOnEntry: true,
      trackOrigins: true, suppressions: ['my.supp'], xen: 'host', valgrindArgs: ['--num-callers=30', '-q'],
    });
    assert.equal(c.program, join(dir, 'prog'));
    assert.deepEqual(c.args, ['a', 'b c']);
    assert.equal(c.cwd, dir);
    assert.equal(c.env.ADDED, 'x');
    assert.equal('HOME' in c.env, false);
    assert.deepEqual(c.toolArgs, ['--leak-check=full', '--track-origins=yes', `--suppressions=${join(dir, 'my.supp')}`, '--xen=host', '--num-callers=30', '-q']);
    assert.equal(c.opts['num-callers'], 30);
    assert.equal(c.opts['track-origins'], true);
    assert.equal(c.opts.quiet, true);
    assert.equal(c.stopOnEntry, true);
    assert.equal(c.stopOnError, 'all');
  });

  it('defaults the leak check to full unless leakCheck or valgrindArgs say otherwise', () => {
    assert.equal(toCommandLine({ program: '/bin/true' }).opts['leak-check'], 'full');
    assert.equal(toCommandLine({ program: '/bin/true', leakCheck: 'no' }).opts['leak-check'], 'no');
    assert.equal(toCommandLine({ program: '/bin/true', valgrindArgs: ['--leak-check=summary'] }).opts['leak-check'], 'summary');
  });

  it('stopOnError: true, false, or a list of kinds', () => {
    assert.equal(toCommandLine({ program: '/bin/true', stopOnError: false }).stopOnError, 'none');
    assert.deepEqual([...(toCommandLine({ program: '/bin/true', stopOnError: ['InvalidRead', 'Leak_DefinitelyLost'] }).stopOnError as Set<string>)],
      ['InvalidRead', 'Leak_DefinitelyLost']);
  });

  it('xen: a config file, or an inline host description written to one', () => {
    const file = toCommandLine({ program: '/bin/true', cwd: dir, xen: { config: 'host.json' } });
    assert.deepEqual(file.toolArgs.slice(1), ['--xen=sim', `--xen-config=${join(dir, 'host.json')}`]);
    const inline = toCommandLine({ program: '/bin/true', xen: { physinfo: { nr_cpus: 8 } } });
    const cfg = inline.opts['xen-config'] as string;
    assert.deepEqual(JSON.parse(readFileSync(cfg, 'utf8')), { physinfo: { nr_cpus: 8 } });
    rmSync(join(cfg, '..'), { recursive: true, force: true });
  });

  it('blames the attribute at fault', () => {
    assert.equal(blamed({}), 'program');
    assert.equal(blamed({ program: '' }), 'program');
    assert.equal(blamed({ program: 'p', args: 'a b' }), 'args');
    assert.equal(blamed({ program: 'p', cwd: join(dir, 'missing') }), 'cwd');
    assert.equal(blamed({ program: 'p', env: { A: 1 } }), 'env');
    assert.equal(blamed({ program: 'p', stopOnEntry: 'yes' }), 'stopOnEntry');
    assert.equal(blamed({ program: 'p', stopOnError: ['InvalidWrites'] }), 'stopOnError');
    assert.equal(blamed({ program: 'p', leakCheck: 'sometimes' }), 'leakCheck');
    assert.equal(blamed({ program: 'p', suppressions: 'a.supp' }), 'suppressions');
    assert.equal(blamed({ program: 'p', xen: 'cloud' }), 'xen');
    assert.equal(blamed({ program: 'p', valgrindArgs: ['--no-such-option'] }), 'valgrindArgs');
    assert.equal(blamed({ program: 'p', valgrindArgs: ['--num-callers=many'] }), 'valgrindArgs');
    assert.equal(blamed({ program: 'p', valgrindArgs: ['prog2'] }), 'valgrindArgs');
  });
});
