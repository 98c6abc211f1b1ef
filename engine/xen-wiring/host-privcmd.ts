/**
 * `--xen=host`: the real /dev/xen/privcmd of a dom0 behind engine/xen's HostHypervisor.
 *
 * Only privcmd and /dev/xen/hypercall are engine devices in host mode: hypercall arguments
 * carry guest pointers (nested in structs) that HostHypervisor rewrites to host addresses. The
 * other Xen devices (evtchn, gntdev, gntalloc, xenbus) and the xenstored socket take plain
 * structs and go to the host's own nodes through the ordinary syscall passthrough, as do
 * /proc/xen and /sys/hypervisor.
 *
 * Not exercised by the tests (no Xen host here): written from Linux's privcmd ABI.
 */
import * as fs from 'fs';
import { HostChunk, hostMmap, hostSyscall } from '../host/libc';
import type { EventChannelHost, ForeignFrame, GrantHost, HostPrivcmd } from '../xen';
import { IOCTL } from '../xen';
import { E } from '../kernel/errno';

const PAGE = 4096;
const AT_FDCWD = -100;
const O_RDWR = 2;
const O_CLOEXEC = 0x80000;
const SYS_OPENAT = 257;
const SYS_IOCTL = 16;

/** Host-side layouts (amd64): privcmd_hypercall 48 bytes, mmapbatch_v2 32, mmap_resource 32, then the gfn and err words. */
const ARG = 0;
const GFN = 64;
const ERR = 72;

/** Opens a host path read-write through the raw syscall (the guest's fd table is not involved). */
function openHost(scratch: HostChunk, p: string): number {
  const b = Buffer.from(`${p}\0`);
  scratch.bytes.set(b, 512);
  return hostSyscall(SYS_OPENAT, AT_FDCWD, scratch.addr + 512, O_RDWR | O_CLOEXEC);
}

/** The devices behind evtchn/gntdev in host mode are the host's own; these are never asked. */
const NOT_ROUTED_HERE = -E.ENOSYS;
const hostEvtchnUnused: EventChannelHost = {
  bindVirq: () => NOT_ROUTED_HERE, bindInterdomain: () => NOT_ROUTED_HERE, bindUnboundPort: () => NOT_ROUTED_HERE,
  unbind: () => NOT_ROUTED_HERE, notify: () => NOT_ROUTED_HERE, pending: () => false, clearPending: () => undefined,
};
const hostGrantsUnused: GrantHost = {
  mapGrant: () => NOT_ROUTED_HERE, allocGrant: () => NOT_ROUTED_HERE, freeGrant: () => undefined,
};

/** The host's privcmd (and hypercall-buffer) device. */
export class HostPrivcmdDevice implements HostPrivcmd {
  readonly evtchn = hostEvtchnUnused;
  readonly grants = hostGrantsUnused;
  /** Foreign frames already mapped, by domain and frame number: one host mapping each, kept for the run. */
  private readonly foreign = new Map<string, ForeignFrame>();

  private constructor(private readonly fd: number, readonly hypercallFd: number, private readonly scratch: HostChunk) {}

  /** Opens the host's privcmd (and /dev/xen/hypercall when it exists); why not, when it cannot. */
  static open(): HostPrivcmdDevice | string {
    const scratch = hostMmap(PAGE);
    if (typeof scratch === 'number') return `cannot allocate memory (errno ${-scratch})`;
    let fd = -E.ENOENT;
    for (const p of ['/dev/xen/privcmd', '/proc/xen/privcmd']) {
      if (!fs.existsSync(p)) continue;
      fd = openHost(scratch, p);
      if (fd >= 0) break;
    }
    if (fd < 0) return `cannot open the host's /dev/xen/privcmd (errno ${-fd})`;
    const hc = fs.existsSync('/dev/xen/hypercall') ? openHost(scratch, '/dev/xen/hypercall') : -1;
    return new HostPrivcmdDevice(fd, hc, scratch);
  }

  /** IOCTL_PRIVCMD_HYPERCALL with already-translated (host) arguments. */
  hypercall(op: number, args: readonly bigint[]): bigint {
    const dv = this.view();
    dv.setBigUint64(ARG, BigInt(op), true);
    for (let i = 0; i < 5; i++) dv.setBigUint64(ARG + 8 + 8 * i, BigInt.asUintN(64, args[i] ?? 0n), true);
    return BigInt(hostSyscall(SYS_IOCTL, this.fd, IOCTL.privcmd_hypercall, this.scratch.addr + ARG));
  }

  /** One frame of another domain through IOCTL_PRIVCMD_MMAPBATCH_V2 on a one-page host window. */
  mapForeign(domid: number, gfn: bigint): ForeignFrame | number {
    const key = `${domid}:${gfn}`;
    const known = this.foreign.get(key);
    if (known) return known;
    const win = hostMmap(PAGE, this.fd, 0, true);
    if (typeof win === 'number') return win;
    const dv = this.view();
    dv.setUint32(ARG, 1, true);
    dv.setUint16(ARG + 4, domid, true);
    dv.setBigUint64(ARG + 8, BigInt(win.addr), true);
    dv.setBigUint64(ARG + 16, BigInt(this.scratch.addr + GFN), true);
    dv.setBigUint64(ARG + 24, BigInt(this.scratch.addr + ERR), true);
    dv.setBigUint64(GFN, gfn, true);
    dv.setInt32(ERR, 0, true);
    const r = hostSyscall(SYS_IOCTL, this.fd, IOCTL.privcmd_mmapbatch_v2, this.scratch.addr + ARG);
    const err = dv.getInt32(ERR, true);
    if (r < 0 || err < 0) return err < 0 ? err : r;
    this.foreign.set(key, win.bytes);
    return win.bytes;
  }

  /** One resource frame through IOCTL_PRIVCMD_MMAP_RESOURCE. */
  mapResource(domid: number, type: number, id: number, frame: bigint): ForeignFrame | number {
    const key = `${domid}:r${type}:${id}:${frame}`;
    const known = this.foreign.get(key);
    if (known) return known;
    const win = hostMmap(PAGE, this.fd, 0, true);
    if (typeof win === 'number') return win;
    const r = this.resource(domid, type, id, Number(frame), 1, win.addr);
    if (r < 0) return r;
    this.foreign.set(key, win.bytes);
    return win.bytes;
  }

  /** MMAP_RESOURCE's size query (addr 0, num 0). */
  resourceFrames(domid: number, type: number, id: number): number {
    const r = this.resource(domid, type, id, 0, 0, 0);
    return r < 0 ? r : Number(this.view().getBigUint64(ARG + 16, true));
  }

  /** Pages for /dev/xen/hypercall mmaps: the host device's (resident, as Xen requires), else locked anonymous memory. */
  hypercallPages(len: number): HostChunk | number {
    if (this.hypercallFd >= 0) return hostMmap(len, this.hypercallFd, 0, true);
    const c = hostMmap(len);
    if (typeof c !== 'number') hostSyscall(149 /* mlock */, c.addr, len);
    return c;
  }

  private resource(domid: number, type: number, id: number, idx: number, num: number, addr: number): number {
    const dv = this.view();
    dv.setUint16(ARG, domid, true);
    dv.setUint32(ARG + 4, type, true);
    dv.setUint32(ARG + 8, id, true);
    dv.setUint32(ARG + 12, idx, true);
    dv.setBigUint64(ARG + 16, BigInt(num), true);
    dv.setBigUint64(ARG + 24, BigInt(addr), true);
    return hostSyscall(SYS_IOCTL, this.fd, IOCTL.privcmd_mmap_resource, this.scratch.addr + ARG);
  }

  private view(): DataView {
    return new DataView(this.scratch.bytes.buffer, this.scratch.bytes.byteOffset, 512);
  }
}
