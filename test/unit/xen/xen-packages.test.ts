/** The cache of Debian's Xen 4.17 binaries used by the engine's end-to-end tests. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { ensureXenPackages } from '../../support/xen-packages';

const haveApt = (() => { try { execFileSync('apt-get', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

test('ensureXenPackages fetches and unpacks xl, its libraries and the xenstore tools (idempotently)', { skip: haveApt ? false : 'no apt-get here' }, () => {
  const p = ensureXenPackages();
  const again = ensureXenPackages();
  assert.deepEqual(again, p);
  const elf = (f: string) => readFileSync(f).subarray(0, 4).toString('latin1') === '\x7fELF';
  assert.ok(elf(p.xl), p.xl);
  assert.ok(elf(p.xenstore));
  for (const so of ['libxenlight.so.4.17', 'libxenctrl.so.4.17', 'libxencall.so.1', 'libxenstore.so.4', 'libxlutil.so.4.17', 'libyajl.so.2']) {
    assert.ok(p.libs[so] && existsSync(p.libs[so]), so);
  }
  assert.ok(existsSync(p.xenstoreTools['xenstore-read']));
  assert.ok(existsSync(`${p.debugDir}/.build-id/41/ef084882b52c51227aa685a8aed36fd9d887de.debug`), "xl's detached debug info");
  assert.match(p.versions['xen-utils-4.17'], /^4\.17\./);
});
