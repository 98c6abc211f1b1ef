/** sysctl (35) in the simulator: Xen 4.17 semantics of each sub-op xl and libxl issue. */

import { EACCES, EBUSY, EEXIST, EINVAL, ENOBUFS, ENOENT, ENOSYS, ESRCH } from '../../errno';
import { StructRef } from '../../layouts/view';
import * as S from '../../layouts/sysctl';
import { getdomaininfo } from '../../layouts/domctl-payloads';
import { CPUPOOL_OP, SYSCTL } from '../../hypercalls/sysctl';
import { SimCall, SimHypervisor } from '../hypervisor';
import { Cpupool, SCHED_IDS } from '../state';
import { argStruct, copyIn, copyOut, element, neg, readBitmap, writeBitmap } from './util';
import { fillDomainInfo } from './domaininfo';

type Op = (c: SimCall, u: StructRef) => bigint;

const PHYSCAP: Record<string, number> = {
  hvm: 0x1, pv: 0x2, directio: 0x4, hap: 0x8, shadow: 0x10, iommu_hap_pt_share: 0x20, vmtrace: 0x40, vpmu: 0x80,
  'gnttab-v1': 0x100, 'gnttab-v2': 0x200,
};
/** XEN_INVALID_DEV: a PCI device Xen does not know (pcitopoinfo). */
const XEN_INVALID_DEV = 0xfffffffe;

function cpuToNode(sim: SimHypervisor, cpu: number): number {
  const per = Math.ceil(sim.cfg.host.nrCpus / sim.cfg.host.nrNodes);
  return Math.floor(cpu / per);
}
function distance(sim: SimHypervisor, i: number, j: number): number {
  return sim.cfg.host.distances?.[i]?.[j] ?? (i === j ? 10 : 20);
}

const OPS: Record<number, Op> = {
  [SYSCTL.readconsole]: (c, u) => {
    const r = c.sim.ring.read(u.num('count'), u.num('index'), u.num('incremental') !== 0, u.num('clear') !== 0);
    copyOut(c.mem, Number(u.get('buffer')), r.bytes);
    u.set('count', r.bytes.length);
    u.set('index', r.index);
    return 0n;
  },
  [SYSCTL.physinfo]: (c, u) => {
    const h = c.sim.cfg.host;
    u.zero();
    u.set('threads_per_core', h.threadsPerCore);
    u.set('cores_per_socket', h.coresPerSocket);
    u.set('nr_cpus', h.nrCpus);
    u.set('max_cpu_id', h.nrCpus - 1);
    u.set('nr_nodes', h.nrNodes);
    u.set('max_node_id', h.nrNodes - 1);
    u.set('cpu_khz', h.cpuKhz);
    u.set('capabilities', h.capabilities.reduce((a, x) => a | (PHYSCAP[x] ?? 0), 0));
    u.set('total_pages', c.sim.totalPages());
    u.set('free_pages', c.sim.freePages());
    u.set('scrub_pages', Math.floor(h.scrubKb / 4));
    u.set('outstanding_pages', c.sim.outstandingPages());
    u.set('max_mfn', h.maxMfn);
    h.hwCap.slice(0, 8).forEach((w, i) => u.set(`hw_cap[${i}]`, w));
    return 0n;
  },
  [SYSCTL.sched_id]: (c, u) => {
    u.set('sched_id', c.sim.pools.get(0)!.schedId);
    return 0n;
  },
  [SYSCTL.getdomaininfolist]: (c, u) => {
    const first = u.num('first_domain');
    const max = u.num('max_domains');
    const buf = Number(u.get('buffer'));
    let n = 0;
    for (const d of c.sim.sortedDomains()) {
      if (d.id < first) continue;
      if (n === max) break;
      fillDomainInfo(element(c.mem, buf, n, getdomaininfo, c.sim.release), d);
      n++;
    }
    u.set('num_domains', n);
    return 0n;
  },
  [SYSCTL.debug_keys]: (c, u) => {
    // Keys are handled by Xen's key handlers; the simulator records them on the console.
    const keys = copyIn(c.mem, Number(u.get('keys')), u.num('nr_keys'));
    c.sim.ring.write(new TextEncoder().encode(`(XEN) debug keys: ${new TextDecoder().decode(keys)}\n`));
    return 0n;
  },
  [SYSCTL.getcpuinfo]: (c, u) => {
    const nr = Math.min(u.num('max_cpus'), c.sim.cfg.host.nrCpus);
    const base = Number(u.get('info'));
    const up = BigInt(Math.floor(c.sim.uptime() * 1e9));
    for (let cpu = 0; cpu < nr; cpu++) {
      let busy = 0n;
      for (const d of c.sim.domains.values()) for (const v of d.vcpus) if (v.cpu === cpu) busy += v.timeNs;
      element(c.mem, base, cpu, S.cpuinfoElem, c.sim.release).set('idletime', up > busy ? up - busy : 0n);
    }
    u.set('nr_cpus', nr);
    return 0n;
  },
  [SYSCTL.availheap]: (c, u) => {
    u.set('avail_bytes', c.sim.freePages() * 4096n);
    return 0n;
  },
  [SYSCTL.cputopoinfo]: (c, u) => {
    const h = c.sim.cfg.host;
    const num = h.nrCpus;
    const handle = Number(u.get('cputopo'));
    // A NULL handle is a size query; a short buffer gets -ENOBUFS and the needed count.
    if (handle !== 0) {
      if (u.num('num_cpus') < num) { u.set('num_cpus', num); return neg(ENOBUFS); }
      for (let cpu = 0; cpu < num; cpu++) {
        const e = element(c.mem, handle, cpu, S.cputopoElem, c.sim.release);
        e.set('core', Math.floor(cpu / h.threadsPerCore) % h.coresPerSocket);
        e.set('socket', Math.floor(cpu / (h.threadsPerCore * h.coresPerSocket)));
        e.set('node', cpuToNode(c.sim, cpu));
      }
    }
    u.set('num_cpus', num);
    return 0n;
  },
  [SYSCTL.numainfo]: (c, u) => {
    const sim = c.sim;
    const n = sim.cfg.host.nrNodes;
    const mi = Number(u.get('meminfo'));
    const di = Number(u.get('distance'));
    if (mi !== 0 || di !== 0) {
      if (u.num('num_nodes') < n) { u.set('num_nodes', n); return neg(ENOBUFS); }
      const stride = u.num('num_nodes');
      const perNode = sim.totalPages() / BigInt(n);
      const freePerNode = sim.freePages() / BigInt(n);
      for (let i = 0; i < n; i++) {
        if (mi) {
          const e = element(c.mem, mi, i, S.meminfoElem, sim.release);
          e.set('memsize', perNode * 4096n);
          e.set('memfree', freePerNode * 4096n);
        }
        if (di) {
          const row = new Uint8Array(4 * n);
          const dv = new DataView(row.buffer);
          for (let j = 0; j < n; j++) dv.setUint32(4 * j, distance(sim, i, j), true);
          copyOut(c.mem, di + 4 * i * stride, row);
        }
      }
    }
    u.set('num_nodes', n);
    return 0n;
  },
  [SYSCTL.cpupool_op]: (c, u) => cpupoolOp(c, u),
  [SYSCTL.scheduler_op]: (c, u) => {
    const pool = c.sim.pools.get(u.num('cpupool_id'));
    if (!pool) return neg(ESRCH);
    if (u.num('sched_id') !== pool.schedId) return neg(EINVAL);
    const put = u.num('cmd') === 0;
    if (pool.schedId === SCHED_IDS.credit2) {
      if (put) pool.ratelimitUs = u.num('u.sched_credit2.ratelimit_us'); else u.set('u.sched_credit2.ratelimit_us', pool.ratelimitUs);
      return 0n;
    }
    if (pool.schedId === SCHED_IDS.credit) {
      if (put) {
        pool.tsliceMs = u.num('u.sched_credit.tslice_ms');
        pool.ratelimitUs = u.num('u.sched_credit.ratelimit_us');
        if (u.has('u.sched_credit.vcpu_migr_delay_us')) pool.migrDelayUs = u.num('u.sched_credit.vcpu_migr_delay_us');
      } else {
        u.set('u.sched_credit.tslice_ms', pool.tsliceMs);
        u.set('u.sched_credit.ratelimit_us', pool.ratelimitUs);
        u.set('u.sched_credit.vcpu_migr_delay_us', pool.migrDelayUs);
      }
      return 0n;
    }
    return neg(EINVAL);
  },
  [SYSCTL.pcitopoinfo]: (c, u) => {
    const n = u.num('num_devs');
    const nodes = Number(u.get('nodes'));
    const out = new Uint8Array(4 * n);
    for (let i = 0; i < n; i++) new DataView(out.buffer).setUint32(4 * i, XEN_INVALID_DEV, true);
    copyIn(c.mem, Number(u.get('devs')), 4 * n);
    copyOut(c.mem, nodes, out);
    return 0n;
  },
  [SYSCTL.get_cpu_levelling_caps]: (c, u) => {
    u.set('caps', c.sim.cfg.host.levellingCaps);
    return 0n;
  },
  [SYSCTL.get_cpu_featureset]: (c, u) => {
    const fs = c.sim.cfg.host.featureset;
    const ptr = Number(u.get('features'));
    if (u.num('index') > 3) return neg(EINVAL);
    if (ptr === 0) { u.set('nr_features', fs.length); return 0n; }
    const n = Math.min(u.num('nr_features'), fs.length);
    const b = new Uint8Array(4 * n);
    fs.slice(0, n).forEach((w, i) => new DataView(b.buffer).setUint32(4 * i, w >>> 0, true));
    copyOut(c.mem, ptr, b);
    u.set('nr_features', n);
    return 0n;
  },
  [SYSCTL.get_cpu_policy]: (c, u) => {
    const h = c.sim.cfg.host;
    if (u.num('index') > 5 || u.get('_rsvd') !== 0n) return neg(EINVAL);
    const lp = Number(u.get(u.has('leaves') ? 'leaves' : 'cpuid_policy'));
    const mp = Number(u.get(u.has('msrs') ? 'msrs' : 'msr_policy'));
    if (lp === 0 && mp === 0) { u.set('nr_leaves', h.cpuidLeaves.length); u.set('nr_msrs', h.msrs.length); return 0n; }
    if (lp !== 0) {
      if (u.num('nr_leaves') < h.cpuidLeaves.length) return neg(ENOBUFS);
      h.cpuidLeaves.forEach((l, i) => {
        const e = element(c.mem, lp, i, S.cpuidLeaf, c.sim.release);
        ['leaf', 'subleaf', 'a', 'b', 'c', 'd'].forEach((k, j) => e.set(k, l[j] >>> 0));
      });
      u.set('nr_leaves', h.cpuidLeaves.length);
    }
    if (mp !== 0) {
      if (u.num('nr_msrs') < h.msrs.length) return neg(ENOBUFS);
      h.msrs.forEach(([idx, val], i) => {
        const e = element(c.mem, mp, i, S.msrEntry, c.sim.release);
        e.set('idx', idx); e.set('flags', 0); e.set('val', BigInt(val));
      });
      u.set('nr_msrs', h.msrs.length);
    }
    return 0n;
  },
};

function cpupoolOp(c: SimCall, u: StructRef): bigint {
  const sim = c.sim;
  const all = new Set(Array.from({ length: sim.cfg.host.nrCpus }, (_, i) => i));
  switch (u.num('op')) {
    case CPUPOOL_OP.INFO: {
      const want = u.num('cpupool_id');
      const pool = [...sim.pools.values()].sort((a, b) => a.id - b.id).find((p) => p.id >= want);
      if (!pool) return neg(ENOENT);
      u.set('cpupool_id', pool.id);
      u.set('sched_id', pool.schedId);
      u.set('n_dom', [...sim.domains.values()].filter((d) => d.cpupool === pool.id).length);
      writeBitmap(c.mem, u.sub('cpumap'), pool.cpus);
      return 0n;
    }
    case CPUPOOL_OP.FREEINFO: {
      for (const p of sim.pools.values()) for (const cpu of p.cpus) all.delete(cpu);
      writeBitmap(c.mem, u.sub('cpumap'), all);
      return 0n;
    }
    case CPUPOOL_OP.CREATE: {
      let id = u.num('cpupool_id');
      if (id === 0xffffffff) { id = 1; while (sim.pools.has(id)) id++; }
      if (sim.pools.has(id)) return neg(EEXIST);
      const sched = Object.entries(SCHED_IDS).find(([, v]) => v === u.num('sched_id'));
      if (!sched) return neg(EINVAL);
      sim.pools.set(id, new Cpupool({ id, name: `Pool-${id}`, scheduler: sched[0], cpus: [] }));
      u.set('cpupool_id', id);
      return 0n;
    }
    case CPUPOOL_OP.DESTROY: {
      const p = sim.pools.get(u.num('cpupool_id'));
      if (!p) return neg(ENOENT);
      if (p.cpus.size || [...sim.domains.values()].some((d) => d.cpupool === p.id)) return neg(EBUSY);
      sim.pools.delete(p.id);
      return 0n;
    }
    case CPUPOOL_OP.ADDCPU:
    case CPUPOOL_OP.RMCPU: {
      const p = sim.pools.get(u.num('cpupool_id'));
      if (!p) return neg(ENOENT);
      const cpu = u.num('cpu');
      if (cpu >= sim.cfg.host.nrCpus) return neg(EINVAL);
      if (u.num('op') === CPUPOOL_OP.ADDCPU) {
        for (const q of sim.pools.values()) if (q.cpus.has(cpu)) return neg(EBUSY);
        p.cpus.add(cpu);
      } else {
        if (!p.cpus.delete(cpu)) return neg(EINVAL);
      }
      return 0n;
    }
    case CPUPOOL_OP.MOVEDOMAIN: {
      const p = sim.pools.get(u.num('cpupool_id'));
      const d = sim.domains.get(u.num('domid'));
      if (!p) return neg(ENOENT);
      if (!d) return neg(ESRCH);
      if (d.id === 0) return neg(EINVAL);
      d.cpupool = p.id;
      return 0n;
    }
    default:
      return neg(ENOSYS);
  }
}

/** Member of `u` used by each sub-op (names change between releases). */
const MEMBER: Record<number, string> = {
  1: 'readconsole', 3: 'physinfo', 4: 'sched_id', 6: 'getdomaininfolist', 7: 'debug_keys', 8: 'getcpuinfo', 9: 'availheap',
  16: 'cputopoinfo', 17: 'numainfo', 18: 'cpupool_op', 19: 'scheduler_op', 22: 'pcitopoinfo', 25: 'cpu_levelling_caps',
  26: 'cpu_featureset', 29: 'cpu_policy',
};

/** Entry point for hypercall 35. */
export function sysctl(c: SimCall): bigint {
  const env = argStruct(c, 0, S.xenSysctl);
  if (env.num('interface_version') !== c.sim.iface.sysctl) return neg(EACCES);
  const cmd = env.num('cmd');
  const h = OPS[cmd];
  const m = MEMBER[cmd];
  if (!h || !m || !env.has(`u.${m}`)) return neg(ENOSYS);
  return h(c, env.sub(`u.${m}`));
}
