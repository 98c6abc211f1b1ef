/**
 * The guest's fds onto Xen: each engine/xen object (device file, xenstore connection, text file)
 * seen through the kernel's VirtualFile interface.
 */
import type { HostChunk } from '../host/libc';
import type { VirtualFile } from '../kernel/fd-table';
import type { DeviceMmap } from '../kernel/handlers/devices';
import { E } from '../kernel/errno';
import type { XenFile, XenstoreConnection } from '../xen';
import type { XenWiring } from './wiring';

const POLLIN = 1;
const POLLOUT = 4;
const POLLHUP = 0x10;

/** A Xen device node (privcmd, hypercall, evtchn, gntdev, gntalloc, xenbus): ioctl, mmap, read/write. */
export class XenDeviceFile implements VirtualFile {
  constructor(readonly name: string, readonly file: XenFile, private readonly xen: XenWiring) {}

  /** ioctl(2): the device's own, with the process's memory and the tool's checks. */
  ioctl(request: number, arg: number): number {
    return this.xen.enter(() => this.file.ioctl(request, arg, this.xen.ctx));
  }

  /** read(2): evtchn's pending ports, xenbus replies; -EAGAIN (the kernel waits) when none yet. */
  read(buf: Uint8Array): number {
    if (!this.file.read) return -E.EINVAL;
    const r = this.file.read(buf.length);
    if (typeof r === 'number') return r;
    // The xenbus device answers an empty read when nothing is queued; Linux blocks there.
    if (r.length === 0 && buf.length > 0) return -E.EAGAIN;
    buf.set(r);
    return r.length;
  }

  /** write(2): evtchn unmask requests, xenbus requests. */
  write(data: Uint8Array): number {
    return this.file.write ? this.xen.enter(() => this.file.write!(data)) : -E.EINVAL;
  }

  /** poll(2) readiness: readable when the device has data; writable when it takes writes. */
  poll(events: number): number {
    let r = 0;
    if (events & POLLIN && this.file.readable?.()) r |= POLLIN;
    if (events & POLLOUT && this.file.write) r |= POLLOUT;
    return r;
  }

  /** mmap(2): the device's plan — fresh zeroed pages, its frames, or an error. */
  readonly mmap: DeviceMmap = (len, offset, start) => {
    const map = this.file.mmap;
    if (!map) return -E.ENODEV;
    const plan = this.xen.enter(() => map.call(this.file, start, len, offset));
    let pages: HostChunk | HostChunk[] | number;
    switch (plan.kind) {
      case 'error':
        return -plan.errno;
      case 'anonymous':
        pages = this.xen.anonymousPages(this.file, len, offset);
        break;
      case 'frames':
        if (plan.frames.length * 4096 !== len) return -E.EINVAL;
        pages = this.xen.mappings.framePages(start, plan.frames);
        break;
    }
    if (typeof pages !== 'number') this.xen.mappings.trackWindow(start, len, this.file);
    return pages;
  };

  close(): void {
    this.file.close();
  }
}

/**
 * A connected xenstored socket: the same byte stream as /dev/xen/xenbus. Reads wait (-EAGAIN to
 * the kernel) until a reply or watch event is queued, and see EOF once the server dropped the
 * connection.
 */
export class XenstoreSocketFile implements VirtualFile {
  constructor(readonly name: string, private readonly conn: XenstoreConnection) {}

  read(buf: Uint8Array): number {
    if (this.conn.readable()) {
      const d = this.conn.read(buf.length);
      buf.set(d);
      return d.length;
    }
    return this.conn.isClosed() ? 0 : -E.EAGAIN;
  }

  write(data: Uint8Array): number {
    if (this.conn.isClosed()) return -E.EPIPE;
    this.conn.write(data);
    return data.length;
  }

  poll(events: number): number {
    let r = 0;
    if (events & POLLIN && this.conn.readable()) r |= POLLIN;
    if (this.conn.isClosed()) r |= POLLHUP;
    else if (events & POLLOUT) r |= POLLOUT;
    return r;
  }

  close(): void {
    this.conn.close();
  }
}

/** A read-only text file (/proc/xen/*, /sys/hypervisor/*, /proc/uptime), its contents fixed at open as procfs/sysfs do. */
export class XenTextFile implements VirtualFile {
  private pos = 0;
  constructor(readonly name: string, private readonly data: Uint8Array) {}

  read(buf: Uint8Array): number {
    const n = Math.min(buf.length, this.data.length - this.pos);
    buf.set(this.data.subarray(this.pos, this.pos + n));
    this.pos += n;
    return n;
  }

  poll(events: number): number {
    return events & (POLLIN | POLLOUT);
  }
}
