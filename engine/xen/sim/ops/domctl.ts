/** domctl (36) in the simulator: domain queries and the lifecycle/affinity/scheduler changes xl makes. */

import { EACCES, EINVAL, ENOSYS, ESRCH, EOPNOTSUPP } from '../../errno';
import { StructRef } from '../../layouts/view';
import { xenDomctl } from '../../layouts/domctl';
import { DOMCTL, SCHEDULER } from '../../hypercalls/domctl';
import { SimCall } from '../hypervisor';
import { Domain, Vcpu } from '../state';
import { argStruct, copyIn, copyOut, neg, readBitmap, writeBitmap } from './util';
import { fillDomainInfo } from './domaininfo';

const DOMID_FIRST_RESERVED = 0x7ff0;
const AFFINITY_HARD = 1;
const AFFINITY_SOFT = 2;

interface Ctx { c: SimCall; env: StructRef; d: Domain }
type Op = (x: Ctx) => bigint;

const u = (x: Ctx, m: string) => x.env.sub(`u.${m}`);

function vcpuOf(x: Ctx, v: number): Vcpu | bigint {
  if (v >= x.d.maxVcpus) return neg(EINVAL);
  return x.d.vcpus[v] ?? neg(ESRCH);
}

/** Ops that need an existing domain (Xen looks it up before dispatching). */
const OPS: Record<number, Op> = {
  [DOMCTL.destroydomain]: (x) => BigInt(x.c.sim.destroyDomain(x.d.id)),
  [DOMCTL.pausedomain]: (x) => {
    if (x.d.id === x.c.sim.cfg.caller.domid) return neg(EINVAL);
    const n = x.c.sim.pauseCount.get(x.d.id) ?? 0;
    if (n + 1 >= 255) return neg(75 /* EOVERFLOW */);
    x.c.sim.pauseCount.set(x.d.id, n + 1);
    x.d.paused = true;
    return 0n;
  },
  [DOMCTL.unpausedomain]: (x) => {
    const n = x.c.sim.pauseCount.get(x.d.id) ?? 0;
    if (n === 0) return neg(EINVAL);
    x.c.sim.pauseCount.set(x.d.id, n - 1);
    x.d.paused = n - 1 > 0;
    return 0n;
  },
  [DOMCTL.resumedomain]: (x) => {
    x.d.shutdownReason = undefined;
    return 0n;
  },
  [DOMCTL.max_mem]: (x) => {
    x.d.maxPages = u(x, 'max_mem').get('max_memkb') / 4n;
    return 0n;
  },
  [DOMCTL.max_vcpus]: (x) => {
    const max = u(x, 'max_vcpus').num('max');
    if (max > x.c.sim.cfg.host.nrCpus * 32 || max < x.d.vcpus.length) return neg(EINVAL);
    while (x.d.vcpus.length < max) x.d.vcpus.push(new Vcpu(x.c.sim.cfg.host.nrCpus, { state: 'offline', cpu: x.d.vcpus.length % x.c.sim.cfg.host.nrCpus }));
    x.d.maxVcpus = max;
    return 0n;
  },
  [DOMCTL.getvcpuinfo]: (x) => {
    const p = u(x, 'getvcpuinfo');
    const v = vcpuOf(x, p.num('vcpu'));
    if (typeof v === 'bigint') return v;
    p.set('online', v.online ? 1 : 0);
    p.set('blocked', v.blocked ? 1 : 0);
    p.set('running', v.running && !x.d.paused ? 1 : 0);
    p.set('cpu_time', v.timeNs);
    p.set('cpu', v.cpu);
    return 0n;
  },
  [DOMCTL.getvcpuaffinity]: (x) => affinity(x, false),
  [DOMCTL.setvcpuaffinity]: (x) => affinity(x, true),
  [DOMCTL.scheduler_op]: (x) => {
    const p = u(x, 'scheduler_op');
    const pool = x.c.sim.poolOf(x.d);
    if (!pool || p.num('sched_id') !== pool.schedId) return neg(EINVAL);
    const cmd = p.num('cmd');
    const m = pool.schedId === SCHEDULER.credit2 ? 'credit2' : pool.schedId === SCHEDULER.credit ? 'credit' : undefined;
    if (!m || cmd > 1) return neg(EINVAL);
    if (cmd === 0) {
      const w = p.num(`u.${m}.weight`);
      if (w < 1 || w > 65535) return neg(EINVAL);
      x.d.weight = w;
      if (p.has(`u.${m}.cap`)) x.d.cap = p.num(`u.${m}.cap`);
    } else {
      p.set(`u.${m}.weight`, x.d.weight);
      p.set(`u.${m}.cap`, x.d.cap);
    }
    return 0n;
  },
  [DOMCTL.setdomainhandle]: (x) => {
    x.d.handle = u(x, 'setdomainhandle').bytes('handle').slice();
    return 0n;
  },
  [DOMCTL.set_address_size]: (x) => {
    const s = u(x, 'address_size').num('size');
    if (s !== 32 && s !== 64) return neg(EINVAL);
    x.d.addressSize = s;
    return 0n;
  },
  [DOMCTL.get_address_size]: (x) => {
    u(x, 'address_size').set('size', x.d.addressSize);
    return 0n;
  },
  [DOMCTL.settscinfo]: (x) => {
    const p = u(x, 'tsc_info');
    x.d.tsc = { mode: p.num('tsc_mode'), khz: p.num('gtsc_khz'), incarnation: p.num('incarnation'), elapsedNs: p.get('elapsed_nsec') };
    return 0n;
  },
  [DOMCTL.gettscinfo]: (x) => {
    const p = u(x, 'tsc_info');
    p.set('tsc_mode', x.d.tsc.mode);
    p.set('gtsc_khz', x.d.tsc.khz || Math.floor(x.c.sim.cfg.host.cpuKhz));
    p.set('incarnation', x.d.tsc.incarnation);
    p.set('pad', 0);
    p.set('elapsed_nsec', BigInt(Math.floor((x.c.sim.now() - x.d.startTime) * 1e9)));
    return 0n;
  },
  [DOMCTL.setnodeaffinity]: (x) => {
    x.d.nodeAffinity = readBitmap(x.c.mem, u(x, 'nodeaffinity').sub('nodemap'), x.c.sim.cfg.host.nrNodes);
    return 0n;
  },
  [DOMCTL.getnodeaffinity]: (x) => {
    writeBitmap(x.c.mem, u(x, 'nodeaffinity').sub('nodemap'), x.d.nodeAffinity);
    return 0n;
  },
  [DOMCTL.hypercall_init]: (x) => {
    if (x.d.type !== 'pv') return neg(EINVAL);
    // Xen fills the guest's hypercall page: for 64-bit PV, 32 bytes per hypercall number of
    // push %rcx; push %r11; mov $nr,%eax; syscall; pop %r11; pop %rcx; ret.
    const f = x.c.sim.mapForeign(x.d.id, u(x, 'hypercall_init').get('gmfn'));
    if (typeof f === 'number') return BigInt(f);
    for (let nr = 0; nr < 128; nr++) f.set([0x51, 0x41, 0x53, 0xb8, nr, 0, 0, 0, 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3], nr * 32);
    return 0n;
  },
  [DOMCTL.setvcpucontext]: (x) => {
    const p = u(x, 'vcpucontext');
    const v = vcpuOf(x, p.num('vcpu'));
    if (typeof v === 'bigint') return v;
    const ptr = Number(p.get('ctxt'));
    if (ptr !== 0) copyIn(x.c.mem, ptr, 5168);
    v.online = true;
    return 0n;
  },
  [DOMCTL.getvcpucontext]: (x) => {
    const p = u(x, 'vcpucontext');
    const v = vcpuOf(x, p.num('vcpu'));
    if (typeof v === 'bigint') return v;
    copyOut(x.c.mem, Number(p.get('ctxt')), new Uint8Array(5168));
    return 0n;
  },
  [DOMCTL.get_cpu_policy]: (x) => {
    const p = u(x, 'cpu_policy');
    const pol = x.d.cpuPolicy;
    const leaves = pol ? pol.leaves.length / 24 : x.c.sim.cfg.host.cpuidLeaves.length;
    const msrs = pol ? pol.msrs.length / 16 : x.c.sim.cfg.host.msrs.length;
    const lp = Number(p.get(p.has('leaves') ? 'leaves' : 'cpuid_policy'));
    const mp = Number(p.get(p.has('msrs') ? 'msrs' : 'msr_policy'));
    if (lp && pol) copyOut(x.c.mem, lp, pol.leaves.subarray(0, Math.min(p.num('nr_leaves'), leaves) * 24));
    if (mp && pol) copyOut(x.c.mem, mp, pol.msrs.subarray(0, Math.min(p.num('nr_msrs'), msrs) * 16));
    p.set('nr_leaves', leaves);
    p.set('nr_msrs', msrs);
    return 0n;
  },
  [DOMCTL.set_cpu_policy]: (x) => {
    const p = u(x, 'cpu_policy');
    const nl = p.num('nr_leaves');
    const nm = p.num('nr_msrs');
    const lp = Number(p.get(p.has('leaves') ? 'leaves' : 'cpuid_policy'));
    const mp = Number(p.get(p.has('msrs') ? 'msrs' : 'msr_policy'));
    x.d.cpuPolicy = { leaves: lp ? copyIn(x.c.mem, lp, nl * 24).slice() : new Uint8Array(0), msrs: mp ? copyIn(x.c.mem, mp, nm * 16).slice() : new Uint8Array(0) };
    p.set('err_leaf', 0xffffffff);
    p.set('err_subleaf', 0xffffffff);
    p.set('err_msr', 0xffffffff);
    return 0n;
  },
  [DOMCTL.get_paging_mempool_size]: (x) => {
    u(x, 'paging_mempool').set('size', x.d.pagingMempool);
    return 0n;
  },
  [DOMCTL.set_paging_mempool_size]: (x) => {
    const s = u(x, 'paging_mempool').get('size');
    if (s % 4096n) return neg(EINVAL);
    x.d.pagingMempool = s;
    return 0n;
  },
  [DOMCTL.soft_reset]: () => neg(EOPNOTSUPP),
};

/** get/setvcpuaffinity with Xen's flags semantics (4.5+) and the pre-4.5 single cpumap. */
function affinity(x: Ctx, set: boolean): bigint {
  const p = u(x, 'vcpuaffinity');
  const v = vcpuOf(x, p.num('vcpu'));
  if (typeof v === 'bigint') return v;
  const nr = x.c.sim.cfg.host.nrCpus;
  if (!p.has('flags')) {
    if (set) v.hard = readBitmap(x.c.mem, p.sub('cpumap'), nr);
    writeBitmap(x.c.mem, p.sub('cpumap'), v.hard);
    return 0n;
  }
  const flags = p.num('flags');
  if (!(flags & (AFFINITY_HARD | AFFINITY_SOFT))) return neg(EINVAL);
  if (set) {
    if (flags & AFFINITY_HARD) {
      const hard = readBitmap(x.c.mem, p.sub('cpumap_hard'), nr);
      if (hard.size === 0) return neg(EINVAL);
      v.hard = hard;
    }
    if (flags & AFFINITY_SOFT) v.soft = readBitmap(x.c.mem, p.sub('cpumap_soft'), nr);
  }
  // Both set and get report the (resulting) affinity in the maps that were passed.
  if (flags & AFFINITY_HARD) writeBitmap(x.c.mem, p.sub('cpumap_hard'), v.hard);
  if (flags & AFFINITY_SOFT) writeBitmap(x.c.mem, p.sub('cpumap_soft'), v.soft);
  return 0n;
}

/** Entry point for hypercall 36. */
export function domctl(c: SimCall): bigint {
  const env = argStruct(c, 0, xenDomctl);
  if (env.num('interface_version') !== c.sim.iface.domctl) return neg(EACCES);
  const cmd = env.num('cmd');
  const domid = env.num('domain');
  if (cmd === DOMCTL.getdomaininfo) {
    // 4.17: the first existing domain with id ≥ domain; its id is written back.
    if (domid >= DOMID_FIRST_RESERVED) return neg(EINVAL);
    const d = c.sim.sortedDomains().find((x) => x.id >= domid);
    if (!d) return neg(ESRCH);
    fillDomainInfo(env.sub('u.getdomaininfo'), d);
    env.set('domain', d.id);
    return 0n;
  }
  if (cmd === DOMCTL.createdomain) {
    const p = env.sub('u.createdomain');
    const flags = p.num('flags');
    const id = c.sim.createDomain(domid, {
      handle: p.bytes('handle'),
      hvm: (flags & 1) !== 0,
      maxVcpus: p.has('max_vcpus') ? p.num('max_vcpus') : 1,
      cpupool: p.has('cpupool_id') ? p.num('cpupool_id') : 0,
    });
    if (id < 0) return BigInt(id);
    c.sim.domains.get(id)!.ssidref = p.num('ssidref');
    env.set('domain', id);
    return 0n;
  }
  const h = OPS[cmd];
  if (!h) return neg(ENOSYS);
  const d = c.sim.domains.get(domid === 0x7ff0 ? c.sim.cfg.caller.domid : domid);
  if (!d) return neg(ESRCH);
  return h({ c, env, d });
}
