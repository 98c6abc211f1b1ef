/** memory_op (12) in the simulator: reservations, claims, maps and the counters libxl reads. */

import { EINVAL, ENOMEM, ENOSYS, ESRCH } from '../../errno';
import { XENMEM } from '../../hypercalls/memory-op';
import * as M from '../../layouts/memory';
import { readUint, writeUint } from '../../layouts/view';
import { SimCall } from '../hypervisor';
import { Domain } from '../state';
import { argStruct, copyIn, copyOut, element, neg } from './util';

const DOMID_SELF = 0x7ff0;

function dom(c: SimCall, id: number): Domain | undefined {
  return c.sim.domains.get(id === DOMID_SELF ? c.sim.cfg.caller.domid : id);
}

/** The xen_memory_reservation of argument 1: its domain, extent count and size, and extent list. */
function reservation(c: SimCall): { d: Domain; n: number; pages: bigint; list: number } | bigint {
  const r = argStruct(c, 1, M.memoryReservation);
  const d = dom(c, r.num('domid'));
  if (!d) return neg(ESRCH);
  return { d, n: Number(r.get('nr_extents')), pages: 1n << BigInt(r.num('extent_order')), list: Number(r.get('extent_start')) };
}

/** The e820 a domain sees when nothing was set: RAM below 640K and from 1M up to its size. */
function defaultE820(d: Domain): Array<[bigint, bigint, number]> {
  const bytes = d.maxPages * 4096n;
  return [[0n, 0x9f000n, 1], [0x100000n, bytes > 0x100000n ? bytes - 0x100000n : 0n, 1]];
}

function writeE820(c: SimCall, entries: Array<[bigint, bigint, number]>): bigint {
  const s = argStruct(c, 1, M.memoryMap);
  const room = s.num('nr_entries');
  if (room < entries.length) return neg(EINVAL);
  entries.forEach(([addr, size, type], i) => {
    const e = element(c.mem, Number(s.get('buffer')), i, M.e820Entry, c.sim.release);
    e.set('addr', addr); e.set('size', size); e.set('type', type);
  });
  s.set('nr_entries', entries.length);
  return 0n;
}

export function memoryOp(c: SimCall): bigint {
  const cmd = Number(BigInt.asUintN(64, c.args[0] ?? 0n) & 0x3fn);
  const sim = c.sim;
  switch (cmd) {
    case XENMEM.get_sharing_freed_pages:
    case XENMEM.get_sharing_shared_pages:
      return 0n; // no page sharing on this host
    case XENMEM.maximum_ram_page:
      return BigInt(sim.cfg.host.maxMfn);
    case XENMEM.current_reservation:
    case XENMEM.maximum_reservation:
    case XENMEM.maximum_gpfn: {
      const d = dom(c, argStruct(c, 1, M.domidArg).num('domid'));
      if (!d) return neg(ESRCH);
      if (cmd === XENMEM.current_reservation) return d.totPages;
      if (cmd === XENMEM.maximum_reservation) return d.maxPages;
      return d.maxPages > 0n ? d.maxPages - 1n : 0n;
    }
    case XENMEM.claim_pages: {
      const r = argStruct(c, 1, M.memoryReservation);
      const d = dom(c, r.num('domid'));
      if (!d) return neg(ESRCH);
      if (r.num('extent_order') !== 0 || r.num('mem_flags') !== 0) return neg(EINVAL);
      const want = r.get('nr_extents');
      if (want > sim.freePages() - sim.outstandingPages() + d.outstandingPages) return neg(ENOMEM);
      d.outstandingPages = want;
      return 0n;
    }
    case XENMEM.increase_reservation:
    case XENMEM.populate_physmap: {
      const res = reservation(c);
      if (typeof res === 'bigint') return res;
      const { d, n, pages, list } = res;
      let done = 0;
      for (; done < n; done++) {
        if (d.totPages + pages > d.maxPages || sim.freePages() < pages) break;
        const mfn = sim.frames.alloc();
        for (let p = 1n; p < pages; p++) sim.frames.alloc();
        if (cmd === XENMEM.populate_physmap) {
          const gpfn = readUint(c.mem, list + 8 * done, 8);
          for (let p = 0n; p < pages; p++) d.p2m.set(gpfn + p, mfn + p);
          // PV guests learn the machine frames; translated guests keep their gpfns.
          if (d.type === 'pv') writeUint(c.mem, list + 8 * done, 8, mfn);
        } else if (list !== 0) {
          writeUint(c.mem, list + 8 * done, 8, mfn);
        }
        d.totPages += pages;
        d.outstandingPages = d.outstandingPages > pages ? d.outstandingPages - pages : 0n;
      }
      return BigInt(done);
    }
    case XENMEM.decrease_reservation: {
      const res = reservation(c);
      if (typeof res === 'bigint') return res;
      const { d, n, pages, list } = res;
      let done = 0;
      for (; done < n && d.totPages >= pages; done++) {
        const gpfn = readUint(c.mem, list + 8 * done, 8);
        for (let p = 0n; p < pages; p++) d.p2m.delete(gpfn + p);
        d.totPages -= pages;
      }
      return BigInt(done);
    }
    case XENMEM.memory_map: {
      const d = sim.caller();
      if (!d) return neg(ESRCH);
      return writeE820(c, d.e820 ? decodeE820(d.e820) : defaultE820(d));
    }
    case XENMEM.machine_memory_map:
      return writeE820(c, [[0n, 0x9f000n, 1], [0x100000n, sim.totalPages() * 4096n - 0x100000n, 1]]);
    case XENMEM.set_memory_map: {
      const s = argStruct(c, 1, M.foreignMemoryMap);
      const d = dom(c, s.num('domid'));
      if (!d) return neg(ESRCH);
      const n = s.num('map.nr_entries');
      if (n > 128) return neg(EINVAL);
      d.e820 = copyIn(c.mem, Number(s.get('map.buffer')), n * 20).slice();
      return 0n;
    }
    case XENMEM.get_pod_target: {
      const s = argStruct(c, 1, M.podTarget);
      const d = dom(c, s.num('domid'));
      if (!d) return neg(ESRCH);
      s.set('target_pages', d.totPages); s.set('tot_pages', d.totPages); s.set('pod_cache_pages', 0); s.set('pod_entries', 0);
      return 0n;
    }
    case XENMEM.machphys_mapping: {
      const s = argStruct(c, 1, M.machphysMapping);
      s.set('v_start', 0xffff800000000000n); s.set('v_end', 0xffff804000000000n); s.set('max_mfn', sim.cfg.host.maxMfn);
      return 0n;
    }
    default:
      return neg(ENOSYS);
  }
}

function decodeE820(raw: Uint8Array): Array<[bigint, bigint, number]> {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Array<[bigint, bigint, number]> = [];
  for (let o = 0; o + 20 <= raw.length; o += 20) out.push([dv.getBigUint64(o, true), dv.getBigUint64(o + 8, true), dv.getUint32(o + 16, true)]);
  return out;
}

