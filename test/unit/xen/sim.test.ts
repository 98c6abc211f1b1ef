/**
 * The simulated hypervisor against the semantics of reference §5.4/§6: buffers built as libxc
 * builds them, answers decoded as xl decodes them.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest } from './libxc';
import { SimHypervisor } from '../../../engine/xen/sim/hypervisor';
import { CPUPOOL_OP, SYSCTL } from '../../../engine/xen/hypercalls/sysctl';
import { DOMCTL } from '../../../engine/xen/hypercalls/domctl';
import { XENMEM } from '../../../engine/xen/hypercalls/memory-op';
import { layoutOf } from '../../../engine/xen/layouts/ctypes';
import { getdomaininfo } from '../../../engine/xen/layouts/domctl-payloads';
import { R } from '../../../engine/xen/layouts/releases';
import { StructRef } from '../../../engine/xen/layouts/view';
import { DOMINF } from '../../../engine/xen/sim/state';
import { seedXenstore } from '../../../engine/xen/xenstore/seed';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { flaskOp } from '../../../engine/xen/layouts/xsm';
import { memoryReservation } from '../../../engine/xen/layouts/memory';

const FROZEN = { clock: { bootTime: 1764175920, now: 1764175920 + 456 } };

interface Info { domid: number; flags: number; memMiB: number; vcpus: number; cpuTime: number; uuid: string }

/** `libxl_list_domain`: getdomaininfolist(first, 1024) until it returns nothing; xsm_op per domain. */
function listDomains(g: Guest, release = R(4, 17), version = 0x15): Info[] {
  const out: Info[] = [];
  const el = layoutOf(getdomaininfo, release);
  let first = 0;
  for (;;) {
    const buf = g.outBuffer(1024 * el.size);
    const { ret, env } = g.sysctl(SYSCTL.getdomaininfolist, (e) => {
      e.set('u.getdomaininfolist.first_domain', first);
      e.set('u.getdomaininfolist.max_domains', 1024);
      e.set('u.getdomaininfolist.buffer', buf);
    }, version, release);
    assert.equal(ret, 0);
    const n = env.num('u.getdomaininfolist.num_domains');
    if (n === 0) return out;
    for (let i = 0; i < n; i++) {
      const r = new StructRef(g.mem, buf + i * el.size, el);
      const domid = r.num('domain');
      // xl asks FLASK for a label; without FLASK the answer is -ENOSYS.
      const flask = g.bounce(flaskOp);
      flask.set('cmd', 5); flask.set('interface_version', 1); flask.set('u.sid_context.sid', r.num('ssidref'));
      flask.set('u.sid_context.size', 256); flask.set('u.sid_context.context', g.outBuffer(256));
      assert.equal(g.hypercall(27, [flask.addr]), -38);
      out.push({
        domid, flags: r.num('flags'),
        memMiB: Number((r.get('tot_pages') * 4n + r.get('outstanding_pages') * 4n) / 1024n),
        vcpus: r.num('nr_online_vcpus'), cpuTime: Number(r.get('cpu_time')) / 1e9,
        uuid: Buffer.from(r.bytes('handle')).toString('hex'),
      });
      first = domid + 1;
    }
  }
}

test('xl list: the prologue and the domain list', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  // xen_version prologue (libxl_get_version_info).
  assert.equal(g.hypercall(17, [0, 0]), (4 << 16) | 17);
  const ev = g.outBuffer(16);
  assert.equal(g.hypercall(17, [1, ev]), 0);
  assert.equal(g.cstr(ev, 16), '.5-sim');
  const ci = g.outBuffer(144);
  assert.equal(g.hypercall(17, [2, ci]), 0);
  assert.equal(g.cstr(ci, 64), 'gcc (Debian 12.2.0-14) 12.2.0');
  assert.equal(g.cstr(ci + 64, 16), 'pkg-xen-devel');
  const caps = g.outBuffer(1024);
  assert.equal(g.hypercall(17, [3, caps]), 0);
  assert.equal(g.cstr(caps, 1024), 'xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64');
  const pp = g.outBuffer(8);
  assert.equal(g.hypercall(17, [5, pp]), 0);
  assert.equal(g.mem.loadU(pp, 8), 0xffff800000000000n);
  assert.equal(g.hypercall(17, [7, 0]), 4096);
  const bid = g.outBuffer(4 + 4096);
  g.mem.storeU(bid, 4, 8);
  assert.equal(g.hypercall(17, [10, bid]), -105, 'too small: -ENOBUFS, libxl retries with a page');
  g.mem.storeU(bid, 4, 4096);
  assert.equal(g.hypercall(17, [10, bid]), 20);
  assert.equal(Buffer.from(g.mem.read(bid + 4, 4)!).toString('hex'), 'deadbeef');

  const doms = listDomains(g);
  assert.deepEqual(doms.map((d) => [d.domid, d.memMiB, d.vcpus]), [[0, 4096, 4], [1, 1024, 2]]);
  assert.ok(doms[0].flags & DOMINF.running, 'dom0 has a running vCPU: r-----');
  assert.ok(doms[1].flags & DOMINF.blocked && !(doms[1].flags & DOMINF.running), 'guest1: -b----');
  assert.equal(doms[0].cpuTime.toFixed(1), '447.3');
  assert.equal(doms[0].uuid, '0'.repeat(32));
  assert.equal(doms[1].uuid, '6e1a4d2c8f4b4c1e9a573b2f0e9d7c11');
  assert.deepEqual(g.checker.reports, []);
});

test('xl info: physinfo, the sharing multicalls, FREEINFO and sched_id', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const { env } = g.sysctl(SYSCTL.physinfo, () => undefined);
  const pi = env.sub('u.physinfo');
  assert.equal(pi.num('nr_cpus'), 4);
  assert.equal(pi.num('max_cpu_id'), 3);
  assert.equal(pi.num('cpu_khz'), 2999998);
  assert.equal(pi.get('total_pages') / 256n, 16384n);
  // free = total - Xen's own 79 MiB - dom0 4096 - guest1 1024
  assert.equal((pi.get('free_pages') - pi.get('outstanding_pages')) / 256n, 11185n);
  assert.equal(pi.num('capabilities'), 0x1 | 0x2 | 0x8 | 0x10 | 0x100 | 0x200);
  assert.equal(pi.num('hw_cap[0]'), 0x178bfbff);
  assert.ok(g.mem.isDefined(pi.addr, 112), 'POST defines the whole struct');

  // xc_memory_op wraps memory_op in a one-entry multicall on 64-bit.
  for (const cmd of [XENMEM.get_sharing_freed_pages, XENMEM.get_sharing_shared_pages]) {
    const e = g.outBuffer(64);
    g.mem.storeU(e, 8, 12);
    g.mem.storeU(e + 16, 8, cmd);
    assert.equal(g.hypercall(13, [e, 1]), 0);
    assert.equal(g.mem.loadU(e + 8, 8), 0n);
  }
  const map = g.outBuffer(1);
  g.mem.storeU(map, 1, 0xff);
  const fi = g.sysctl(SYSCTL.cpupool_op, (e) => {
    e.set('u.cpupool_op.op', CPUPOOL_OP.FREEINFO);
    e.set('u.cpupool_op.cpumap.bitmap', map);
    e.set('u.cpupool_op.cpumap.nr_bits', 8);
  });
  assert.equal(fi.ret, 0);
  assert.equal(g.mem.loadU(map, 1), 0n, 'free_cpus : 0');
  const sid = g.sysctl(SYSCTL.sched_id, () => undefined);
  assert.equal(sid.env.num('u.sched_id.sched_id'), 6, 'credit2');
  assert.deepEqual(g.checker.reports, []);
});

test('xl dmesg: incremental readconsole until count = 0', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const buf = g.outBuffer(16384);
  let index = 0;
  let text = '';
  for (;;) {
    const { ret, env } = g.sysctl(SYSCTL.readconsole, (e) => {
      e.set('u.readconsole.clear', 0); e.set('u.readconsole.incremental', 1); e.set('u.readconsole.index', index);
      e.set('u.readconsole.buffer', buf); e.set('u.readconsole.count', 16384);
    });
    assert.equal(ret, 0);
    const n = env.num('u.readconsole.count');
    if (n === 0) break;
    text += new TextDecoder().decode(g.mem.read(buf, n));
    index = env.num('u.readconsole.index');
  }
  assert.match(text, /^\(XEN\) Xen version 4\.17\.5-sim/);
  assert.equal(index, text.length);
  // With clear, the ring is empty afterwards.
  g.sysctl(SYSCTL.readconsole, (e) => {
    e.set('u.readconsole.clear', 1); e.set('u.readconsole.incremental', 0);
    e.set('u.readconsole.buffer', buf); e.set('u.readconsole.count', 16384);
  });
  const again = g.sysctl(SYSCTL.readconsole, (e) => {
    e.set('u.readconsole.clear', 0); e.set('u.readconsole.incremental', 0);
    e.set('u.readconsole.buffer', buf); e.set('u.readconsole.count', 16384);
  });
  assert.equal(again.env.num('u.readconsole.count'), 0);
});

test('xl vcpu-list: getvcpuinfo and getvcpuaffinity (hard and soft)', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const rows: string[] = [];
  for (let v = 0; v < 4; v++) {
    const { ret, env } = g.domctl(DOMCTL.getvcpuinfo, 0, (e) => e.set('u.getvcpuinfo.vcpu', v));
    assert.equal(ret, 0);
    const p = env.sub('u.getvcpuinfo');
    const state = `${p.num('running') ? 'r' : '-'}${p.num('blocked') ? 'b' : '-'}-`;
    const hard = g.outBuffer(1);
    const soft = g.outBuffer(1);
    const aff = g.domctl(DOMCTL.getvcpuaffinity, 0, (e) => {
      e.set('u.vcpuaffinity.vcpu', v); e.set('u.vcpuaffinity.flags', 3);
      e.set('u.vcpuaffinity.cpumap_hard.bitmap', hard); e.set('u.vcpuaffinity.cpumap_hard.nr_bits', 8);
      e.set('u.vcpuaffinity.cpumap_soft.bitmap', soft); e.set('u.vcpuaffinity.cpumap_soft.nr_bits', 8);
    });
    assert.equal(aff.ret, 0);
    rows.push(`${v} ${p.num('cpu')} ${state} ${(Number(p.get('cpu_time')) / 1e9).toFixed(1)} ${g.mem.loadU(hard, 1).toString(16)}/${g.mem.loadU(soft, 1).toString(16)}`);
  }
  assert.deepEqual(rows, ['0 0 r-- 114.0 f/f', '1 1 -b- 114.0 f/f', '2 2 -b- 109.5 f/f', '3 3 -b- 109.8 f/f']);
  assert.deepEqual(g.checker.reports, []);
  // A vCPU beyond max_vcpus: -EINVAL.
  assert.equal(g.domctl(DOMCTL.getvcpuinfo, 0, (e) => e.set('u.getvcpuinfo.vcpu', 9)).ret, -22);
});

test('setvcpuaffinity changes what getvcpuaffinity reports, and echoes the result', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const hard = g.outBuffer(1);
  g.mem.storeU(hard, 1, 0b0101);
  const set = g.domctl(DOMCTL.setvcpuaffinity, 1, (e) => {
    e.set('u.vcpuaffinity.vcpu', 0); e.set('u.vcpuaffinity.flags', 1);
    e.set('u.vcpuaffinity.cpumap_hard.bitmap', hard); e.set('u.vcpuaffinity.cpumap_hard.nr_bits', 8);
  });
  assert.equal(set.ret, 0);
  const out = g.outBuffer(1);
  g.domctl(DOMCTL.getvcpuaffinity, 1, (e) => {
    e.set('u.vcpuaffinity.vcpu', 0); e.set('u.vcpuaffinity.flags', 1);
    e.set('u.vcpuaffinity.cpumap_hard.bitmap', out); e.set('u.vcpuaffinity.cpumap_hard.nr_bits', 8);
  });
  assert.equal(g.mem.loadU(out, 1), 0b0101n);
});

test('getdomaininfo (4.17): first domain ≥ id, ESRCH past the last, EINVAL for reserved ids', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const a = g.domctl(DOMCTL.getdomaininfo, 1, () => undefined);
  assert.equal(a.ret, 0);
  assert.equal(a.env.num('domain'), 1);
  assert.equal(a.env.num('u.getdomaininfo.domain'), 1);
  assert.ok(g.mem.isDefined(a.env.addrOf('domain'), 2) && g.mem.isDefined(a.env.addrOf('u.getdomaininfo'), 112));
  const sim = new SimHypervisor({ ...FROZEN, domains: [{ id: 0, memoryKb: 1 << 20 }, { id: 5, memoryKb: 1 << 18 }] });
  const g2 = new Guest(sim);
  const b = g2.domctl(DOMCTL.getdomaininfo, 2, () => undefined);
  assert.equal(b.ret, 0);
  assert.equal(b.env.num('domain'), 5);
  assert.equal(g2.domctl(DOMCTL.getdomaininfo, 6, () => undefined).ret, -3);
  assert.equal(g2.domctl(DOMCTL.getdomaininfo, 0x7ff0, () => undefined).ret, -22);
});

test('a wrong interface version gets -EACCES, as from real Xen', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  assert.equal(g.sysctl(SYSCTL.physinfo, () => undefined, 0x14).ret, -13);
  assert.equal(g.domctl(DOMCTL.getdomaininfo, 0, () => undefined, 0x14).ret, -13);
});

test('pause/unpause update the paused flag; unpausing an unpaused domain fails', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const flags = () => g.domctl(DOMCTL.getdomaininfo, 1, () => undefined).env.num('u.getdomaininfo.flags');
  assert.equal(flags() & DOMINF.paused, 0);
  assert.equal(g.domctl(DOMCTL.pausedomain, 1, () => undefined).ret, 0);
  assert.ok(flags() & DOMINF.paused);
  assert.equal(g.domctl(DOMCTL.unpausedomain, 1, () => undefined).ret, 0);
  assert.equal(flags() & DOMINF.paused, 0);
  assert.equal(g.domctl(DOMCTL.unpausedomain, 1, () => undefined).ret, -22);
  assert.equal(g.domctl(DOMCTL.pausedomain, 0, () => undefined).ret, -22, 'the caller cannot pause itself');
  assert.equal(g.domctl(DOMCTL.pausedomain, 7, () => undefined).ret, -3);
});

test('credit2 scheduler_op: getinfo, putinfo, wrong scheduler', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const get = () => g.domctl(DOMCTL.scheduler_op, 1, (e) => { e.set('u.scheduler_op.sched_id', 6); e.set('u.scheduler_op.cmd', 1); }).env;
  const e1 = get();
  assert.deepEqual([e1.num('u.scheduler_op.u.credit2.weight'), e1.num('u.scheduler_op.u.credit2.cap')], [256, 0]);
  assert.equal(g.domctl(DOMCTL.scheduler_op, 1, (e) => {
    e.set('u.scheduler_op.sched_id', 6); e.set('u.scheduler_op.cmd', 0);
    e.set('u.scheduler_op.u.credit2.weight', 512); e.set('u.scheduler_op.u.credit2.cap', 50);
  }).ret, 0);
  const e2 = get();
  assert.deepEqual([e2.num('u.scheduler_op.u.credit2.weight'), e2.num('u.scheduler_op.u.credit2.cap')], [512, 50]);
  assert.equal(g.domctl(DOMCTL.scheduler_op, 1, (e) => { e.set('u.scheduler_op.sched_id', 5); e.set('u.scheduler_op.cmd', 1); }).ret, -22);
  // Pool ratelimit through the sysctl scheduler_op (xl sched-credit2 -s).
  const s = g.sysctl(SYSCTL.scheduler_op, (e) => { e.set('u.scheduler_op.cpupool_id', 0); e.set('u.scheduler_op.sched_id', 6); e.set('u.scheduler_op.cmd', 1); });
  assert.equal(s.env.num('u.scheduler_op.u.sched_credit2.ratelimit_us'), 1000);
  assert.deepEqual(g.checker.reports, []);
});

test('cpupool INFO iterates pools by id and reports -ENOENT past the last', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const info = (id: number) => {
    const map = g.outBuffer(1);
    const r = g.sysctl(SYSCTL.cpupool_op, (e) => {
      e.set('u.cpupool_op.op', CPUPOOL_OP.INFO); e.set('u.cpupool_op.cpupool_id', id);
      e.set('u.cpupool_op.cpumap.bitmap', map); e.set('u.cpupool_op.cpumap.nr_bits', 8);
    });
    return { ret: r.ret, id: r.env.num('u.cpupool_op.cpupool_id'), sched: r.env.num('u.cpupool_op.sched_id'), ndom: r.env.num('u.cpupool_op.n_dom'), map: g.mem.loadU(map, 1) };
  };
  assert.deepEqual(info(0), { ret: 0, id: 0, sched: 6, ndom: 2, map: 0xfn });
  assert.equal(info(1).ret, -2);
});

test('cputopoinfo and numainfo: NULL size queries, then the arrays', () => {
  const g = new Guest(new SimHypervisor(FROZEN));
  const q = g.sysctl(SYSCTL.cputopoinfo, (e) => { e.set('u.cputopoinfo.num_cpus', 0); e.set('u.cputopoinfo.cputopo', 0); });
  assert.equal(q.env.num('u.cputopoinfo.num_cpus'), 4);
  const arr = g.outBuffer(4 * 12);
  const f = g.sysctl(SYSCTL.cputopoinfo, (e) => { e.set('u.cputopoinfo.num_cpus', 4); e.set('u.cputopoinfo.cputopo', arr); });
  assert.equal(f.ret, 0);
  assert.deepEqual([0, 1, 2, 3].map((i) => [g.mem.loadU(arr + 12 * i, 4), g.mem.loadU(arr + 12 * i + 4, 4), g.mem.loadU(arr + 12 * i + 8, 4)].map(Number)),
    [[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]]);
  const small = g.sysctl(SYSCTL.cputopoinfo, (e) => { e.set('u.cputopoinfo.num_cpus', 2); e.set('u.cputopoinfo.cputopo', arr); });
  assert.equal(small.ret, -105);
  const n = g.sysctl(SYSCTL.numainfo, (e) => { e.set('u.numainfo.num_nodes', 0); e.set('u.numainfo.meminfo', 0); e.set('u.numainfo.distance', 0); });
  assert.equal(n.env.num('u.numainfo.num_nodes'), 1);
  const mi = g.outBuffer(16);
  const di = g.outBuffer(4);
  g.sysctl(SYSCTL.numainfo, (e) => { e.set('u.numainfo.num_nodes', 1); e.set('u.numainfo.meminfo', mi); e.set('u.numainfo.distance', di); });
  assert.equal(g.mem.loadU(mi, 8), 16n << 30n);
  assert.equal(g.mem.loadU(di, 4), 10n);
  assert.deepEqual(g.checker.reports, []);
});

test('domain and Xen uptimes derive from the configured boot time', () => {
  const sim = new SimHypervisor(FROZEN);
  assert.equal(sim.uptime(), 456);
  const g = new Guest(sim);
  const t = g.domctl(DOMCTL.gettscinfo, 1, () => undefined);
  assert.equal(t.ret, 0);
  // guest1 started 300 s after boot.
  assert.equal(t.env.get('u.tsc_info.elapsed_nsec'), 156_000_000_000n);
});

test('xen_version commandline is EPERM for an unprivileged caller (XSM dummy policy)', () => {
  const g = new Guest(new SimHypervisor({ ...FROZEN, caller: { domid: 1 } }));
  assert.equal(g.hypercall(17, [9, g.outBuffer(1024)]), -1);
  assert.equal(g.hypercall(17, [1, g.outBuffer(16)]), 0);
  const g0 = new Guest(new SimHypervisor(FROZEN));
  const cl = g0.outBuffer(1024);
  assert.equal(g0.hypercall(17, [9, cl]), 0);
  assert.equal(g0.cstr(cl, 1024), 'placeholder dom0_mem=4096M,max:4096M');
});

test('a simulated Xen 4.14 answers with 4.14 layouts (sysctl 0x13, 104-byte domain records)', () => {
  const g = new Guest(new SimHypervisor({ ...FROZEN, xen: { major: 4, minor: 14 } }));
  assert.equal(g.sysctl(SYSCTL.physinfo, () => undefined, 0x15).ret, -13);
  const doms = listDomains(g, R(4, 15), 0x13);
  assert.deepEqual(doms.map((d) => [d.domid, d.memMiB]), [[0, 4096], [1, 1024]]);
  assert.deepEqual(g.checker.reports, []);
});

test('claims and populate_physmap move memory between free and the domain', () => {
  const sim = new SimHypervisor({ ...FROZEN, domains: [{ id: 0, memoryKb: 4194304 }, { id: 2, memoryKb: 4, maxmemKb: 65536 }] });
  const g = new Guest(sim);
  const free0 = sim.freePages();
  const res = g.bounce(memoryReservation);
  res.set('extent_start', 0); res.set('nr_extents', 100); res.set('extent_order', 0); res.set('mem_flags', 0); res.set('domid', 2);
  assert.equal(g.hypercall(12, [XENMEM.claim_pages, res.addr]), 0);
  assert.equal(sim.outstandingPages(), 100n);
  const ext = g.outBuffer(8 * 4);
  res.set('extent_start', ext); res.set('nr_extents', 4); res.set('extent_order', 9);
  // 4 extents of 512 pages (8 MiB) fit under the domain's 64 MiB maximum: all done.
  assert.equal(g.hypercall(12, [XENMEM.populate_physmap, res.addr]), 4);
  assert.equal(sim.freePages(), free0 - 2048n);
  assert.equal(sim.domains.get(2)!.totPages, 2049n);
  assert.equal(sim.outstandingPages(), 0n);
});

test('a JSON host description: HVM, paused, crashed domains; NUMA; extra xenstore nodes', () => {
  const json = readFileSync(join(__dirname, '../../../../test/fixtures/xen/sim-three-domains.json'), 'utf8');
  const sim = new SimHypervisor(json);
  const g = new Guest(sim);
  const doms = listDomains(g);
  assert.deepEqual(doms.map((d) => d.domid), [0, 3, 7]);
  const web = doms[1];
  assert.ok(web.flags & DOMINF.hvm_guest && web.flags & DOMINF.paused && !(web.flags & DOMINF.running));
  assert.equal(web.vcpus, 1, 'one of two vCPUs online');
  const crashed = doms[2];
  assert.ok(crashed.flags & DOMINF.shutdown);
  assert.equal((crashed.flags >> 16) & 0xff, 3, 'shutdown code: crash');
  const n = g.sysctl(SYSCTL.numainfo, (e) => { e.set('u.numainfo.num_nodes', 0); e.set('u.numainfo.meminfo', 0); e.set('u.numainfo.distance', 0); });
  assert.equal(n.env.num('u.numainfo.num_nodes'), 2);
  const xs = seedXenstore(sim);
  assert.equal(xs.read('/local/domain/3/data/role'), 'frontend');
  assert.equal(xs.read('/local/domain/7/name'), 'crashed');
});
