/**
 * Struct layouts against real headers: live against Debian's libxen-dev (Xen 4.17) with gcc, and
 * against facts measured from older releases' public headers (test/fixtures/xen/layouts).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diff, expected, runProbe } from './layout-probe';
import { layoutOf, resolve } from '../../../engine/xen/layouts/ctypes';
import { R, releaseForDomctl, releaseForSysctl } from '../../../engine/xen/layouts/releases';
import { getdomaininfo } from '../../../engine/xen/layouts/domctl-payloads';
import { physinfo, xenSysctl } from '../../../engine/xen/layouts/sysctl';
import { xenDomctl } from '../../../engine/xen/layouts/domctl';

const HEADERS = '/usr/include';
const haveHeaders = existsSync(join(HEADERS, 'xen/domctl.h')) && existsSync(join(HEADERS, 'xen/sys/privcmd.h'));

test('Xen 4.17 layouts equal the installed libxen-dev headers (gcc offsetof/sizeof)', { skip: haveHeaders ? false : 'libxen-dev is not installed (apt-get install -y libxen-dev)' }, () => {
  const measured = runProbe(HEADERS, R(4, 17), true);
  const declared = expected(R(4, 17), true);
  assert.ok(Object.keys(declared).length > 1000);
  assert.deepEqual(diff(measured, declared), []);
});

const FIXTURES = join(__dirname, '../../../../test/fixtures/xen/layouts');
for (const f of existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((x) => x.endsWith('.json')).sort() : []) {
  test(`layouts of Xen ${f.replace('.json', '')} equal the facts measured from its headers`, () => {
    const { release, probe } = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as { release: string; probe: Record<string, number> };
    const [a, b, c] = release.split('.').map(Number);
    assert.deepEqual(diff(probe, expected(R(a, b, c ?? 0), false)), []);
  });
}

test('reference sizes: envelopes, getdomaininfo and physinfo across releases', () => {
  assert.equal(layoutOf(xenSysctl, R(4, 17)).size, 136);
  assert.equal(layoutOf(xenDomctl, R(4, 17)).size, 144);
  assert.equal(resolve(layoutOf(xenSysctl, R(4, 17)), 'u')!.offset, 8);
  assert.equal(resolve(layoutOf(xenDomctl, R(4, 1)), 'u')!.offset, 16);
  const gdi = (r: number) => layoutOf(getdomaininfo, r).size;
  assert.deepEqual([gdi(R(4, 1)), gdi(R(4, 2)), gdi(R(4, 3)), gdi(R(4, 10)), gdi(R(4, 10, 1)), gdi(R(4, 15)), gdi(R(4, 17))], [80, 88, 96, 96, 104, 104, 112]);
  assert.equal(layoutOf(physinfo, R(4, 17)).size, 112);
  assert.equal(resolve(layoutOf(physinfo, R(4, 17)), 'total_pages')!.offset, 40);
  assert.equal(resolve(layoutOf(physinfo, R(4, 12)), 'capabilities')!.offset, 28);
  assert.equal(resolve(layoutOf(physinfo, R(4, 9)), 'capabilities')!.offset, 96);
});

test('interface versions map to the releases whose layouts they denote', () => {
  assert.equal(releaseForDomctl(0x0e), R(4, 10));
  assert.equal(releaseForDomctl(0x0f), R(4, 10, 1));
  assert.equal(releaseForDomctl(0x15), R(4, 17));
  assert.equal(releaseForDomctl(0x16), undefined);
  assert.equal(releaseForDomctl(0x06), undefined);
  assert.equal(releaseForSysctl(0x07), R(4, 0));
  assert.equal(releaseForSysctl(0x10), R(4, 10, 1));
  assert.equal(releaseForSysctl(0x15), R(4, 17));
});
