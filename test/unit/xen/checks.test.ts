/** PRE/POST derived from the declarations: which bytes are checked, how they are named, warnings. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest } from './libxc';
import { Hypervisor } from '../../../engine/xen/interfaces';
import { SimHypervisor } from '../../../engine/xen/sim/hypervisor';
import { CPUPOOL_OP, SYSCTL } from '../../../engine/xen/hypercalls/sysctl';
import { DOMCTL } from '../../../engine/xen/hypercalls/domctl';
import { XENMEM } from '../../../engine/xen/hypercalls/memory-op';
import { xenDomctl } from '../../../engine/xen/layouts/domctl';
import { memoryReservation } from '../../../engine/xen/layouts/memory';
import { R } from '../../../engine/xen/layouts/releases';

const P = 'ioctl(privcmd hypercall';

test('cpupool FREEINFO with an uninitialised cpupool_id reports nothing (libxc sends garbage there)', () => {
  const g = new Guest();
  const map = g.outBuffer(1);
  const { ret } = g.sysctl(SYSCTL.cpupool_op, (e) => {
    e.set('u.cpupool_op.op', CPUPOOL_OP.FREEINFO);
    e.set('u.cpupool_op.cpumap.bitmap', map);
    e.set('u.cpupool_op.cpumap.nr_bits', 8);
  });
  assert.equal(ret, 0);
  assert.deepEqual(g.checker.messages(), []);
  // The bitmap bytes were written: defined, and all zero (pool 0 owns every CPU).
  assert.ok(g.mem.isDefined(map, 1));
  assert.equal(g.mem.loadU(map, 1), 0n);
});

test('cpupool FREEINFO with an uninitialised nr_bits names the member', () => {
  const g = new Guest();
  g.sysctl(SYSCTL.cpupool_op, (e) => {
    e.set('u.cpupool_op.op', CPUPOOL_OP.FREEINFO);
    e.set('u.cpupool_op.cpumap.bitmap', g.outBuffer(1));
  });
  // The garbage bit count (0xa5a5a5a5) then makes the bitmap run past the mapping, as memcheck would say.
  assert.deepEqual(g.checker.messages(), [
    `Syscall param ${P} sysctl cpupool_op u.cpupool_op.cpumap.nr_bits) points to uninitialised byte(s)`,
    `Syscall param ${P} sysctl cpupool_op *u.cpupool_op.cpumap.bitmap) points to unaddressable byte(s)`,
  ]);
});

test('cpupool INFO reads cpupool_id (unlike FREEINFO)', () => {
  const g = new Guest();
  g.sysctl(SYSCTL.cpupool_op, (e) => {
    e.set('u.cpupool_op.op', CPUPOOL_OP.INFO);
    e.set('u.cpupool_op.cpumap.bitmap', g.outBuffer(1));
    e.set('u.cpupool_op.cpumap.nr_bits', 8);
  });
  assert.deepEqual(g.checker.reports.map((r) => r.what), [`${P} sysctl cpupool_op u.cpupool_op.cpupool_id)`]);
});

test('domctl getvcpuinfo: an uninitialised vcpu is reported by name; POST defines only the OUT members', () => {
  const g = new Guest();
  const { env } = g.domctl(DOMCTL.getvcpuinfo, 0, () => undefined);
  assert.equal(g.checker.reports.length, 1);
  assert.equal(g.checker.messages()[0], `Syscall param ${P} domctl getvcpuinfo u.getvcpuinfo.vcpu) points to uninitialised byte(s)`);
  assert.equal(g.checker.reports[0].addr, env.addrOf('u.getvcpuinfo.vcpu'));
  // The call itself used the garbage vcpu (0xa5a5a5a5) and failed: nothing becomes defined.
  assert.ok(!g.mem.isDefined(env.addrOf('u.getvcpuinfo.online'), 1));

  const g2 = new Guest();
  const r2 = g2.domctl(DOMCTL.getvcpuinfo, 0, (e) => e.set('u.getvcpuinfo.vcpu', 1));
  assert.equal(r2.ret, 0);
  assert.deepEqual(g2.checker.reports, []);
  for (const m of ['online', 'blocked', 'running', 'cpu_time', 'cpu']) assert.ok(g2.mem.isDefined(r2.env.addrOf(`u.getvcpuinfo.${m}`), 1), m);
  // The padding between running (6) and cpu_time (8) is not written by Xen.
  assert.ok(!g2.mem.isDefined(r2.env.addrOf('u.getvcpuinfo.running') + 1, 1));
});

test('domctl header: cmd, interface_version and domain are read; the domain is named', () => {
  const g = new Guest();
  const env = g.bounce(xenDomctl);
  env.set('cmd', DOMCTL.pausedomain);
  env.set('interface_version', 0x15);
  g.hypercall(36, [env.addr]);
  assert.deepEqual(g.checker.reports.map((r) => r.what), [`${P} domctl pausedomain domain)`]);
});

test('sysctl getdomaininfolist with an uninitialised union: first_domain, max_domains, buffer (as Valgrind measured)', () => {
  const g = new Guest(spy());
  const { env } = g.sysctl(SYSCTL.getdomaininfolist, () => undefined);
  assert.deepEqual(g.checker.reports.filter((r) => r.kind === 'uninitialised').map((r) => [r.what, r.addr - env.addr]), [
    [`${P} sysctl getdomaininfolist u.getdomaininfolist.first_domain)`, 8],
    [`${P} sysctl getdomaininfolist u.getdomaininfolist.max_domains)`, 12],
    [`${P} sysctl getdomaininfolist u.getdomaininfolist.buffer)`, 16],
  ]);
});

test('getdomaininfolist POST marks num_domains × 112 bytes of the buffer, not the rest', () => {
  const g = new Guest();
  const buf = g.mem.alloc(1024 * 112 + 0x10) + 0x10; // undefined until Xen writes it
  const { ret, env } = g.sysctl(SYSCTL.getdomaininfolist, (e) => {
    e.set('u.getdomaininfolist.first_domain', 0);
    e.set('u.getdomaininfolist.max_domains', 1024);
    e.set('u.getdomaininfolist.buffer', buf);
  });
  assert.equal(ret, 0);
  assert.deepEqual(g.checker.reports, []);
  assert.equal(env.num('u.getdomaininfolist.num_domains'), 2);
  assert.ok(g.mem.isDefined(buf, 2 * 112));
  assert.ok(!g.mem.isDefined(buf + 2 * 112, 1));
  assert.ok(g.mem.isDefined(env.addrOf('u.getdomaininfolist.num_domains'), 4));
});

test('readconsole reads index only for incremental reads', () => {
  const run = (incremental: number) => {
    const g = new Guest();
    g.sysctl(SYSCTL.readconsole, (e) => {
      e.set('u.readconsole.clear', 0);
      e.set('u.readconsole.incremental', incremental);
      e.set('u.readconsole.buffer', g.outBuffer(16384));
      e.set('u.readconsole.count', 16384);
    });
    return g.checker.reports.map((r) => r.what);
  };
  assert.deepEqual(run(0), []);
  assert.deepEqual(run(1), [`${P} sysctl readconsole u.readconsole.index)`]);
});

test('domctl createdomain for interface 0x12 (Xen 4.13) checks the 4.13 members', () => {
  const g = new Guest(spy());
  const env = g.bounce(xenDomctl, R(4, 13));
  env.set('cmd', DOMCTL.createdomain);
  env.set('interface_version', 0x12);
  env.set('domain', 0xffff);
  g.hypercall(36, [env.addr]);
  assert.deepEqual(g.checker.reports.map((r) => [r.what.replace(`${P} domctl createdomain `, ''), r.addr - env.addr]), [
    ['u.createdomain.ssidref)', 16], ['u.createdomain.handle)', 20], ['u.createdomain.flags)', 36],
    ['u.createdomain.iommu_opts)', 40], ['u.createdomain.max_vcpus)', 44], ['u.createdomain.max_evtchn_port)', 48],
    ['u.createdomain.max_grant_frames)', 52], ['u.createdomain.max_maptrack_frames)', 56], ['u.createdomain.arch)', 60],
  ]);
});

test('an unknown hypercall warns once and is still passed to the hypervisor', () => {
  const calls: number[] = [];
  const g = new Guest(spy(calls));
  assert.equal(g.hypercall(48, [1, 2]), -38);
  assert.equal(g.hypercall(48, [1, 2]), -38);
  assert.deepEqual(calls, [48, 48]);
  assert.deepEqual(g.warnings, ['WARNING: unhandled Xen hypercall 48 (arch_0)']);
});

test('unknown sub-ops and interface versions warn and are passed through', () => {
  const calls: number[] = [];
  const g = new Guest(spy(calls));
  g.sysctl(5 /* perfc_op */, () => undefined);
  g.sysctl(SYSCTL.physinfo, () => undefined, 0x16);
  g.domctl(DOMCTL.getdomaininfo, 0, () => undefined, 0x06);
  g.hypercall(12, [63, 0]);
  assert.deepEqual(calls, [35, 35, 36, 12]);
  assert.deepEqual(g.warnings, [
    'WARNING: unhandled Xen sysctl sub-op 5 (interface version 0x15)',
    'WARNING: unhandled Xen sysctl interface version 0x16',
    'WARNING: unhandled Xen domctl interface version 0x6',
    'WARNING: unhandled Xen memory_op sub-op 63',
  ]);
});

test('the privcmd argument block: op and the argument slots the hypercall uses', () => {
  const g = new Guest(spy());
  const blk = g.mem.alloc(48);
  g.mem.storeU(blk + 8, 8, 0); // arg0 only; op left undefined
  g.privcmd.ioctl(0x305000, blk, g.ctx);
  assert.equal(g.checker.reports[0].what, `${P} op)`);
  const g2 = new Guest(spy());
  const blk2 = g2.mem.alloc(48);
  g2.mem.storeU(blk2, 8, 17);
  g2.privcmd.ioctl(0x305000, blk2, g2.ctx); // xen_version(cmd, arg): both slots read
  assert.deepEqual(g2.checker.reports.map((r) => r.what), [`${P} xen_version cmd)`, `${P} xen_version arg)`]);
});

test('multicall: entries are decoded recursively; results become defined', () => {
  // guest1 has room to grow (2 GiB max, 1 GiB now).
  const g = new Guest(new SimHypervisor({ domains: [
    { id: 0, memoryKb: 4194304, nrVcpus: 1 },
    { id: 1, name: 'guest1', memoryKb: 1048576, maxmemKb: 2097152, nrVcpus: 1 },
  ] }));
  const list = g.mem.alloc(2 * 64);
  // Entry 0: memory_op(get_sharing_freed_pages) with a defined cmd and an unused (undefined) arg.
  g.mem.storeU(list, 8, 12);
  g.mem.storeU(list + 16, 8, XENMEM.get_sharing_freed_pages);
  // Entry 1: memory_op(populate_physmap) whose extent array was never initialised.
  const res = g.bounce(memoryReservation);
  const extents = g.mem.alloc(32);
  res.set('extent_start', extents); res.set('nr_extents', 4); res.set('extent_order', 0); res.set('mem_flags', 0); res.set('domid', 1);
  g.mem.storeU(list + 64, 8, 12);
  g.mem.storeU(list + 64 + 16, 8, XENMEM.populate_physmap);
  g.mem.storeU(list + 64 + 24, 8, res.addr);
  const ret = g.hypercall(13, [list, 2]);
  assert.equal(ret, 0);
  assert.deepEqual(g.checker.messages(), [
    `Syscall param ${P} multicall[0] memory_op arg) points to uninitialised byte(s)`,
    `Syscall param ${P} multicall[1] memory_op populate_physmap *extent_start) points to uninitialised byte(s)`,
  ]);
  assert.ok(g.mem.isDefined(list + 8, 8) && g.mem.isDefined(list + 64 + 8, 8));
  assert.equal(g.mem.loadU(list + 8, 8), 0n);
  // populate_physmap reported 4 extents done: the array is defined after the call.
  assert.equal(g.mem.loadU(list + 64 + 8, 8), 4n);
  assert.ok(g.mem.isDefined(extents, 32));
});

test('xen_version build_id: len is IN; the id bytes (result count) become defined', () => {
  const g = new Guest();
  const buf = g.mem.alloc(4 + 64);
  g.mem.storeU(buf, 4, 64);
  const ret = g.hypercall(17, [10, buf]);
  assert.equal(ret, 20);
  assert.deepEqual(g.checker.reports, []);
  assert.ok(g.mem.isDefined(buf + 4, 20));
  assert.ok(!g.mem.isDefined(buf + 24, 1));
});

test('a grant_table_op array checks every element', () => {
  const g = new Guest(spy());
  const uop = g.mem.alloc(2 * 16);
  g.mem.storeU(uop, 2, 0); // element 0: dom set, nr_frames/frame_list not
  g.hypercall(20, [6 /* query_size */, uop, 2]);
  assert.deepEqual(g.checker.reports.map((r) => r.what), [`${P} grant_table_op query_size uop[1].dom)`]);
});

/** A hypervisor that records calls and answers -ENOSYS (or delegates to a simulator). */
function spy(calls: number[] = []): Hypervisor {
  const sim = new SimHypervisor();
  return {
    hypercall: (op) => { calls.push(op); return -38n; },
    mapForeign: (d, g) => sim.mapForeign(d, g),
    mapResource: (d, t, i, f) => sim.mapResource(d, t, i, f),
    resourceFrames: (d, t, i) => sim.resourceFrames(d, t, i),
    evtchn: sim.evtchn,
    grants: sim.grants,
  };
}
