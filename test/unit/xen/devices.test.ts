/** The Xen device files: ioctl numbers, Linux behaviours libxc depends on, PRE/POST of ioctls, paths. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest } from './libxc';
import { IOCTL, IOCTLS } from '../../../engine/xen/ioctls/table';
import { XenDevices } from '../../../engine/xen/devices';
import { EvtchnFile } from '../../../engine/xen/ioctls/evtchn';
import { GntallocFile, GntdevFile } from '../../../engine/xen/ioctls/gnt';
import { SimHypervisor } from '../../../engine/xen/sim/hypervisor';
import { decode, encode, strings, XS } from '../../../engine/xen/xenstore/protocol';

test('request numbers match the uapi headers (reference §2)', () => {
  const want: Record<string, number> = {
    privcmd_hypercall: 0x00305000, privcmd_mmap: 0x00105002, privcmd_mmapbatch: 0x00185003, privcmd_mmapbatch_v2: 0x00205004,
    privcmd_dm_op: 0x00105005, privcmd_restrict: 0x00025006, privcmd_mmap_resource: 0x00205007, privcmd_irqfd: 0x40185008,
    privcmd_ioeventfd: 0x40305009, privcmd_unimplemented: 0x000050ff,
    evtchn_bind_virq: 0x00044500, evtchn_bind_interdomain: 0x00084501, evtchn_bind_unbound_port: 0x00044502,
    evtchn_unbind: 0x00044503, evtchn_notify: 0x00044504, evtchn_reset: 0x00004505, evtchn_restrict_domid: 0x00024506,
    gntdev_map_grant_ref: 0x00184700, gntdev_unmap_grant_ref: 0x00104701, gntdev_get_offset_for_vaddr: 0x00184702,
    gntdev_set_max_grants: 0x00044703, gntdev_set_unmap_notify: 0x00104707, gntdev_grant_copy: 0x00104708,
    gntdev_dmabuf_exp_from_refs: 0x00144709, gntdev_dmabuf_exp_wait_released: 0x0008470a, gntdev_dmabuf_imp_to_refs: 0x0014470b,
    gntdev_dmabuf_imp_release: 0x0008470c, gntalloc_alloc_gref: 0x00184705, gntalloc_dealloc_gref: 0x00104706,
    gntalloc_set_unmap_notify: 0x00104707,
  };
  assert.deepEqual(IOCTL, want);
  assert.equal(IOCTLS.length, 30);
});

test('UNIMPLEMENTED fails with ENOTTY and the DM_OP open probe succeeds (libxenforeignmemory/libxendevicemodel)', () => {
  const g = new Guest();
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_unimplemented, 0, g.ctx), -25);
  const probe = g.mem.alloc(16);
  g.mem.storeU(probe, 2, 0x7ff4); g.mem.storeU(probe + 2, 2, 0); g.mem.storeU(probe + 8, 8, 0);
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_dm_op, probe, g.ctx), 0);
  assert.deepEqual(g.checker.reports, []);
  assert.deepEqual(g.warnings, []);
  assert.equal(g.privcmd.ioctl(0x1234, 0, g.ctx), -25);
  assert.deepEqual(g.warnings, ['WARNING: unhandled ioctl 0x1234 on /dev/xen/privcmd']);
});

test('MMAPBATCH_V2: an uninitialised arr is reported; frames map into the privcmd window; err is defined', () => {
  const g = new Guest();
  const win = 0x7e0000000000;
  g.privcmd.mmap(win, 2 * 4096);
  const arr = g.mem.alloc(16);
  const err = g.mem.alloc(8);
  const blk = g.mem.alloc(32);
  g.mem.storeU(blk, 4, 2); g.mem.storeU(blk + 4, 2, 1); g.mem.storeU(blk + 8, 8, win); g.mem.storeU(blk + 16, 8, arr); g.mem.storeU(blk + 24, 8, err);
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_mmapbatch_v2, blk, g.ctx), 0);
  assert.deepEqual(g.checker.messages(), ['Syscall param ioctl(privcmd mmapbatch_v2 *arr) points to uninitialised byte(s)']);
  // The garbage frame numbers do not exist: per-frame -EINVAL in err[], nothing mapped.
  assert.ok(g.mem.isDefined(err, 8));
  assert.deepEqual([g.mem.loadU(err, 4), g.mem.loadU(err + 4, 4)], [0xffffffean, 0xffffffean]);
  assert.equal(g.mapped.length, 0);
  g.mem.storeU(arr, 8, 0x100); g.mem.storeU(arr + 8, 8, 0x101);
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_mmapbatch_v2, blk, g.ctx), 0);
  assert.deepEqual(g.mapped.map((m) => m.addr), [win, win + 4096]);
  assert.deepEqual([g.mem.loadU(err, 4), g.mem.loadU(err + 4, 4)], [0n, 0n]);
  // Outside any privcmd mapping: EINVAL.
  g.mem.storeU(blk + 8, 8, 0x1000);
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_mmapbatch_v2, blk, g.ctx), -22);
  // The mapped frame is the simulator's: a write through it is seen on the next map.
  g.mapped[0].frame[0] = 0x42;
  g.mem.storeU(blk + 8, 8, win);
  g.privcmd.ioctl(IOCTL.privcmd_mmapbatch_v2, blk, g.ctx);
  assert.equal(g.mapped[2].frame[0], 0x42);
});

test('RESTRICT limits the fd to one domain and forbids raw hypercalls', () => {
  const g = new Guest();
  const dom = g.mem.alloc(2);
  g.mem.storeU(dom, 2, 1);
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_restrict, dom, g.ctx), 0);
  assert.equal(g.hypercall(17, [0, 0]), -1);
  g.mem.storeU(dom, 2, 2);
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_restrict, dom, g.ctx), -22);
});

test('MMAP_RESOURCE size query', () => {
  const g = new Guest();
  const blk = g.mem.alloc(32);
  g.mem.store(blk, new Uint8Array(32));
  g.mem.storeU(blk, 2, 1); g.mem.storeU(blk + 4, 4, 1);
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_mmap_resource, blk, g.ctx), 0);
  assert.equal(g.mem.loadU(blk + 16, 8), 64n);
});

test('evtchn: an uninitialised virq is named; bind, notify, pending read, unbind', () => {
  const g = new Guest();
  const f = new EvtchnFile(g.hv.evtchn);
  const a = g.mem.alloc(8);
  const port = f.ioctl(IOCTL.evtchn_bind_virq, a, g.ctx);
  assert.ok(port > 0);
  assert.deepEqual(g.checker.messages(), ['Syscall param ioctl(evtchn bind_virq virq) points to uninitialised byte(s)']);
  g.mem.storeU(a, 4, port);
  assert.equal(f.readable(), false);
  assert.equal(f.ioctl(IOCTL.evtchn_notify, a, g.ctx), 0);
  assert.equal(f.readable(), true);
  const got = f.read(64) as Uint8Array;
  assert.equal(new DataView(got.buffer).getUint32(0, true), port);
  assert.equal(f.read(64), -11);
  assert.equal(f.ioctl(IOCTL.evtchn_unbind, a, g.ctx), 0);
  assert.equal(f.ioctl(IOCTL.evtchn_unbind, a, g.ctx), -22);
  assert.equal(f.ioctl(IOCTL.evtchn_reset, 0, g.ctx), 0);
});

test('gntalloc then gntdev: allocate a grant, map it from the other side, share the frame', () => {
  const sim = new SimHypervisor();
  const g = new Guest(sim);
  const ga = new GntallocFile(sim.grants);
  const blk = g.mem.alloc(24);
  g.mem.storeU(blk, 2, 1); g.mem.storeU(blk + 2, 2, 1); g.mem.storeU(blk + 4, 4, 1);
  assert.equal(ga.ioctl(IOCTL.gntalloc_alloc_gref, blk, g.ctx), 0);
  assert.ok(g.mem.isDefined(blk + 8, 8) && g.mem.isDefined(blk + 16, 4), 'index and gref_ids[0] written');
  const ref = Number(g.mem.loadU(blk + 16, 4));
  const plan = ga.mmap(0x7d0000000000, 4096, Number(g.mem.loadU(blk + 8, 8)));
  assert.equal(plan.kind, 'frames');
  const gd = new GntdevFile(sim.grants);
  const m = g.mem.alloc(24);
  g.mem.storeU(m, 4, 1); g.mem.storeU(m + 4, 4, 0); g.mem.storeU(m + 16, 4, 0); g.mem.storeU(m + 20, 4, ref);
  assert.equal(gd.ioctl(IOCTL.gntdev_map_grant_ref, m, g.ctx), 0);
  const plan2 = gd.mmap(0x7c0000000000, 4096, Number(g.mem.loadU(m + 8, 8)));
  assert.ok(plan.kind === 'frames' && plan2.kind === 'frames' && plan.frames[0] === plan2.frames[0]);
  assert.equal(g.checker.reports.length, 0);
  // The refs array is a flexible member: count elements are checked.
  const bad = g.mem.alloc(40);
  g.mem.storeU(bad, 4, 2); g.mem.storeU(bad + 16, 8, 0);
  gd.ioctl(IOCTL.gntdev_map_grant_ref, bad, g.ctx);
  assert.deepEqual(g.checker.reports.map((r) => [r.what, r.offset]), [['ioctl(gntdev map_grant_ref refs)', 8]]);
});

test('XenDevices: paths, stat types, opens, mmap plans, /proc and /sys files, the xenstore socket', () => {
  const warnings: string[] = [];
  const dev = XenDevices.simulated({ clock: { bootTime: 1000, now: 1456 } }, (w) => warnings.push(w));
  assert.equal(dev.lookup('/dev/xen/privcmd')?.type, 'chr');
  assert.equal(dev.lookup('/var/run/xenstored/socket')?.type, 'sock');
  assert.equal(dev.lookup('/run/xenstored/socket')?.type, 'sock');
  assert.equal(dev.lookup('/dev/xen')?.type, 'dir');
  assert.equal(dev.lookup('/etc/passwd'), undefined);
  const cap = dev.lookup('/proc/xen/capabilities');
  assert.ok(cap?.type === 'file' && cap.content() === 'control_d\n');
  const ver = dev.lookup('/sys/hypervisor/version/minor');
  assert.ok(ver?.type === 'file' && ver.content() === '17\n');
  const up = dev.lookup('/proc/uptime');
  assert.ok(up?.type === 'file' && up.content().startsWith('456.00 '));
  const hc = dev.open('/dev/xen/hypercall');
  assert.ok(typeof hc !== 'number' && hc.mmap?.(0x1000, 4096, 0).kind === 'anonymous');
  const pc = dev.open('/dev/xen/privcmd');
  assert.ok(typeof pc !== 'number' && pc.mmap?.(0x2000, 4096, 0).kind === 'anonymous');
  assert.equal(dev.open('/dev/xen/nothing'), -2);
  // xenstore over /dev/xen/xenbus and over the socket reach the same store.
  const xb = dev.open('/dev/xen/xenbus');
  assert.ok(typeof xb !== 'number' && xb.write && xb.read);
  xb.write(encode({ type: XS.WRITE, reqId: 1, txId: 0, payload: new TextEncoder().encode('/from-xenbus\0yes') }));
  assert.ok(xb.readable?.());
  xb.read(4096);
  const sock = dev.connectXenstore('/var/run/xenstored/socket');
  assert.ok(typeof sock !== 'number');
  sock.write(encode({ type: XS.READ, reqId: 2, txId: 0, payload: strings('/from-xenbus') }));
  assert.equal(new TextDecoder().decode(decode(sock.read(4096))!.msg.payload), 'yes');
  const noHc = XenDevices.simulated(undefined, () => undefined, { hypercallDevice: false, xenstoreSocket: false });
  assert.equal(noHc.lookup('/dev/xen/hypercall'), undefined);
  assert.equal(noHc.lookup('/var/run/xenstored/socket'), undefined);
  assert.deepEqual(warnings, []);
});

test('DM_OP: the op buffer behind the first descriptor is checked and answered', () => {
  const g = new Guest();
  const op = g.mem.alloc(64);
  g.mem.storeU(op, 4, 20); // XEN_DMOP_nr_vcpus; pad and payload left undefined
  const bufs = g.mem.alloc(16);
  g.mem.storeU(bufs, 8, op); g.mem.storeU(bufs + 8, 8, 64);
  const blk = g.mem.alloc(16);
  g.mem.storeU(blk, 2, 1); g.mem.storeU(blk + 2, 2, 1); g.mem.storeU(blk + 8, 8, bufs);
  assert.equal(g.privcmd.ioctl(IOCTL.privcmd_dm_op, blk, g.ctx), 0);
  assert.equal(g.checker.reports.length, 0);
  assert.equal(g.mem.loadU(op + 8, 4), 2n, 'guest1 has 2 vCPUs');
  assert.ok(g.mem.isDefined(op + 8, 4));
  g.mem.setDefined(op, 4, false);
  g.privcmd.ioctl(IOCTL.privcmd_dm_op, blk, g.ctx);
  assert.deepEqual(g.checker.reports.map((r) => r.what), ['ioctl(privcmd dm_op *ubufs[0].uptr.op)']);
});
