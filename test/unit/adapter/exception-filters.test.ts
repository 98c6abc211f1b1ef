/** Error families and the stop policy: filters and stopOnError together decide a stop. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ERROR_FAMILIES, familyOf, StopPolicy } from '../../../adapter/exception-filters';
import { ERROR_KINDS, ErrorKind, ErrorRecord } from '../../../engine/errors/error-record';

const rec = (kind: ErrorKind, extra: Partial<ErrorRecord> = {}): ErrorRecord => ({ kind, what: kind, stack: [], aux: [], tid: 1, ...extra });

describe('exception filters', () => {
  it('put every error kind in exactly one family', () => {
    for (const k of ERROR_KINDS) {
      const owners = ERROR_FAMILIES.filter((f) => f.kinds.includes(k));
      assert.equal(owners.length, 1, `${k}: ${owners.map((f) => f.filter).join(', ')}`);
    }
  });

  it('file client checks under access or definedness by what they found', () => {
    assert.equal(familyOf(rec('ClientCheck', { unaddressable: true })), 'invalid-access');
    assert.equal(familyOf(rec('ClientCheck', { unaddressable: false })), 'uninitialised');
    assert.equal(familyOf(rec('InvalidWrite')), 'invalid-access');
    assert.equal(familyOf(rec('SyscallParam')), 'syscall-param');
  });

  it('stop only where the filter is on and the kind selected', () => {
    const all = new StopPolicy('all');
    assert.ok(all.stopsOn(rec('InvalidRead')));
    all.setFilters(['uninitialised', 'leaks']);
    assert.equal(all.stopsOn(rec('InvalidRead')), false);
    assert.ok(all.stopsOn(rec('UninitValue')));
    assert.ok(all.stopsOnLeaks);

    const none = new StopPolicy('none');
    assert.equal(none.stopsOn(rec('InvalidRead')), false);
    assert.equal(none.stopsOnLeaks, false);

    const some = new StopPolicy(new Set<ErrorKind>(['InvalidRead']));
    assert.ok(some.stopsOn(rec('InvalidRead')));
    assert.equal(some.stopsOn(rec('InvalidWrite')), false);
    assert.equal(some.stopsOnLeaks, false);
    assert.ok(new StopPolicy(new Set<ErrorKind>(['Leak_DefinitelyLost'])).stopsOnLeaks);
  });
});
