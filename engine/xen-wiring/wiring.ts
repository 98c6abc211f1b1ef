/**
 * engine/xen plugged into a guest process: the device registry the kernel consults for paths,
 * opens and AF_UNIX connects, and the XenContext every Xen ioctl runs with.
 */
import * as path from 'path';
import { HostChunk, hostMmap } from '../host/libc';
import { E } from '../kernel/errno';
import type { VirtualFile } from '../kernel/fd-table';
import type { DeviceNode, EngineDevices } from '../kernel/handlers/devices';
import type { GuestProcess } from '../process/guest-process';
import type { XenContext, XenDevices, XenFile, XenPath } from '../xen';
import { xenGuestMemory, observerChecker } from './context';
import { XenDeviceFile, XenstoreSocketFile, XenTextFile } from './files';
import { XenMappings } from './frames';

const O_ACCMODE = 3;
const O_RDONLY = 0;

/**
 * Where the pages of an 'anonymous' device mmap come from. The simulator is content with fresh
 * host pages; a real hypervisor needs hypercall buffers that stay resident (host mode maps the
 * host's /dev/xen/hypercall).
 */
export type AnonymousPages = (file: XenFile, len: number, offset: number) => HostChunk | number;

/** Fresh zero-filled host pages. */
export const freshPages: AnonymousPages = (_file, len) => hostMmap(len);

/** The Xen side of one guest process. */
export class XenWiring implements EngineDevices {
  readonly ctx: XenContext;
  readonly mappings: XenMappings;

  /**
   * `claims` narrows the paths served here (host mode leaves all but privcmd and hypercall to
   * the host's own nodes).
   */
  constructor(readonly proc: GuestProcess, readonly devices: XenDevices, private readonly pages: AnonymousPages = freshPages,
    private readonly claims: (x: XenPath) => boolean = () => true) {
    this.mappings = new XenMappings(proc);
    this.ctx = {
      mem: xenGuestMemory(proc),
      checker: observerChecker(proc),
      hv: devices.hv,
      warn: devices.warn,
      mapper: this.mappings,
    };
  }

  /** DeviceRegistry: open() of a Xen path; undefined for every other path (the host opens it). */
  open(p: string, flags: number): VirtualFile | number | undefined {
    const where = normalise(p);
    const x = this.lookup(where);
    if (!x) return undefined;
    switch (x.type) {
      case 'chr': {
        const f = this.devices.open(where);
        return typeof f === 'number' ? f : new XenDeviceFile(where, f, this);
      }
      case 'file':
        if ((flags & O_ACCMODE) !== O_RDONLY) return -E.EACCES;
        return new XenTextFile(where, Buffer.from(x.content()));
      case 'sock':
        // Sockets are connect()ed, never opened.
        return -E.ENXIO;
      case 'dir':
        // Listing is the host's: a directory that exists only here opens as missing (see README).
        return undefined;
    }
  }

  /** EngineDevices: what stat/access report for a Xen path. */
  node(p: string): DeviceNode | undefined {
    const x = this.lookup(p);
    if (!x) return undefined;
    switch (x.type) {
      case 'chr': return { type: 'chr', rdev: x.rdev };
      case 'sock': return { type: 'sock' };
      case 'dir': return { type: 'dir' };
      // procfs files report size 0 (their text is made at read time); sysfs attributes a page.
      case 'file': return { type: 'file', size: p.startsWith('/proc/') ? 0 : 4096 };
    }
  }

  /** EngineDevices: connect() to the xenstored socket gives a connection to the in-engine xenstored. */
  connect(p: string): VirtualFile | number | undefined {
    const x = this.lookup(p);
    if (!x || x.type !== 'sock') return undefined;
    const conn = this.devices.connectXenstore(p);
    return typeof conn === 'number' ? conn : new XenstoreSocketFile(p, conn);
  }

  /**
   * Runs a call into Xen with mapped frames coherent on both sides (see frames.ts): the
   * hypervisor sees the guest's writes, the guest sees the hypervisor's.
   */
  enter<T>(call: () => T): T {
    this.mappings.toHypervisor();
    try {
      return call();
    } finally {
      this.mappings.fromHypervisor();
    }
  }

  private lookup(p: string): XenPath | undefined {
    const x = this.devices.lookup(p);
    return x && this.claims(x) ? x : undefined;
  }

  /** Pages for a device's 'anonymous' mmap plan (hypercall buffers, privcmd windows). */
  anonymousPages(file: XenFile, len: number, offset: number): HostChunk | number {
    return this.pages(file, len, offset);
  }
}

/** Xen paths are absolute; relative ones are resolved against the cwd (which the guest shares). */
function normalise(p: string): string {
  const abs = p.startsWith('/') ? p : path.posix.join(process.cwd(), p);
  return path.posix.normalize(abs).replace(/(.)\/$/, '$1');
}
