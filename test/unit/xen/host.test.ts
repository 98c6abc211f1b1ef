/** --xen=host handle translation, on a fake host whose addresses are guest + a fixed offset. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest } from './libxc';
import { HostHypervisor, HostPrivcmd, translateHypercall, ioctlPointerLocations } from '../../../engine/xen/host';
import { SYSCTL } from '../../../engine/xen/hypercalls/sysctl';
import { XENMEM } from '../../../engine/xen/hypercalls/memory-op';
import { IOCTL } from '../../../engine/xen/ioctls/table';
import { SimHypervisor } from '../../../engine/xen/sim/hypervisor';
import { xenSysctl } from '../../../engine/xen/layouts/sysctl';
import { memoryReservation } from '../../../engine/xen/layouts/memory';

const OFFSET = 0x1_0000_0000_0000n;
const xlate = { toHost: (a: number) => (a === 0 ? undefined : BigInt(a) + OFFSET) };

test('sysctl getdomaininfolist: the struct pointer and the buffer handle are translated, then restored', () => {
  const g = new Guest();
  const buf = g.outBuffer(112 * 4);
  const env = g.bounce(xenSysctl);
  env.set('cmd', SYSCTL.getdomaininfolist); env.set('interface_version', 0x15);
  env.set('u.getdomaininfolist.first_domain', 0); env.set('u.getdomaininfolist.max_domains', 4); env.set('u.getdomaininfolist.buffer', buf);
  const t = translateHypercall(35, [BigInt(env.addr), 0n, 0n, 0n, 0n], g.mem, xlate)!;
  assert.equal(t.args[0], BigInt(env.addr) + OFFSET);
  assert.equal(env.get('u.getdomaininfolist.buffer'), BigInt(buf) + OFFSET, 'handle rewritten in place for the call');
  t.restore();
  assert.equal(env.get('u.getdomaininfolist.buffer'), BigInt(buf));
});

test('multicall entries: each entry\'s pointer arguments and their nested handles', () => {
  const g = new Guest();
  const res = g.bounce(memoryReservation);
  const ext = g.outBuffer(32);
  res.set('extent_start', ext); res.set('nr_extents', 4); res.set('extent_order', 0); res.set('mem_flags', 0); res.set('domid', 1);
  const list = g.outBuffer(2 * 64);
  g.mem.storeU(list, 8, 12); g.mem.storeU(list + 16, 8, XENMEM.get_sharing_freed_pages);
  g.mem.storeU(list + 64, 8, 12); g.mem.storeU(list + 80, 8, XENMEM.populate_physmap); g.mem.storeU(list + 88, 8, res.addr);
  const t = translateHypercall(13, [BigInt(list), 2n], g.mem, xlate)!;
  assert.equal(t.args[0], BigInt(list) + OFFSET);
  assert.equal(g.mem.loadU(list + 88, 8), BigInt(res.addr) + OFFSET);
  assert.equal(res.get('extent_start'), BigInt(ext) + OFFSET);
  assert.equal(g.mem.loadU(list + 24, 8), 0n, 'entry 0 has no pointer argument');
  t.restore();
  assert.equal(g.mem.loadU(list + 88, 8), BigInt(res.addr));
  assert.equal(res.get('extent_start'), BigInt(ext));
});

test('NULL handles stay NULL; an untranslatable pointer fails the call with EFAULT', () => {
  const g = new Guest();
  const env = g.bounce(xenSysctl);
  env.set('cmd', SYSCTL.cputopoinfo); env.set('interface_version', 0x15);
  env.set('u.cputopoinfo.num_cpus', 0); env.set('u.cputopoinfo.cputopo', 0);
  const t = translateHypercall(35, [BigInt(env.addr)], g.mem, xlate)!;
  assert.equal(env.get('u.cputopoinfo.cputopo'), 0n);
  t.restore();
  const seen: bigint[][] = [];
  const dev = fakeDevice((op, args) => { seen.push([BigInt(op), ...args]); return 0n; });
  const hv = new HostHypervisor(dev, { toHost: () => undefined });
  assert.equal(hv.hypercall(35, [BigInt(env.addr)], g.mem), -14n);
  assert.equal(seen.length, 0);
});

test('HostHypervisor issues the call with host addresses and hands back the device result', () => {
  const g = new Guest();
  const seen: bigint[][] = [];
  const hv = new HostHypervisor(fakeDevice((op, args) => { seen.push([BigInt(op), ...args]); return 0x40011n; }), xlate);
  const vbuf = g.outBuffer(16);
  assert.equal(hv.hypercall(17, [1n, BigInt(vbuf)], g.mem), 0x40011n);
  assert.deepEqual(seen, [[17n, 1n, BigInt(vbuf) + OFFSET]]);
});

test('ioctl pointer lists: MMAPBATCH_V2 arr/err, DM_OP buffer list and the op buffer', () => {
  const g = new Guest();
  const blk = g.mem.alloc(32);
  g.mem.storeU(blk, 4, 1); g.mem.storeU(blk + 4, 2, 1); g.mem.storeU(blk + 8, 8, 0x5000); g.mem.storeU(blk + 16, 8, 0x6000); g.mem.storeU(blk + 24, 8, 0x7000);
  assert.deepEqual(ioctlPointerLocations('privcmd', IOCTL.privcmd_mmapbatch_v2, blk, g.mem).map((l) => l.value), [0x6000n, 0x7000n]);
  const op = g.outBuffer(64);
  const bufs = g.outBuffer(16);
  g.mem.storeU(bufs, 8, op); g.mem.storeU(bufs + 8, 8, 64);
  const dm = g.mem.alloc(16);
  g.mem.storeU(dm, 2, 1); g.mem.storeU(dm + 2, 2, 1); g.mem.storeU(dm + 8, 8, bufs);
  assert.deepEqual(ioctlPointerLocations('privcmd', IOCTL.privcmd_dm_op, dm, g.mem).map((l) => l.kind === 'mem' ? [l.addr - dm, l.value] : l), [[8, BigInt(bufs)], [bufs - dm, BigInt(op)]]);
});

function fakeDevice(call: (op: number, args: readonly bigint[]) => bigint): HostPrivcmd {
  const sim = new SimHypervisor();
  return {
    hypercall: call,
    mapForeign: (d, gfn) => sim.mapForeign(d, gfn),
    mapResource: (d, t, i, f) => sim.mapResource(d, t, i, f),
    resourceFrames: (d, t, i) => sim.resourceFrames(d, t, i),
    evtchn: sim.evtchn,
    grants: sim.grants,
  };
}
