/**
 * The Xen devices and files of a dom0, as the engine exposes them to the guest: which paths
 * exist, what `stat` says about them, what `open` returns, the xenstored socket, and the
 * /proc/xen and /sys/hypervisor files the libraries and scripts read.
 *
 * The engine wires these in as follows (see also ioctls/common.ts `XenFile`):
 *  - `stat`/`access`/`open` of a path: ask `XenDevices.lookup(path)`. Device nodes get an
 *    fd backed by the returned `XenFile`; `ioctl`, `mmap`, `munmap`, `read`, `write`, `poll`,
 *    `close` on that fd go to it.
 *  - `socket(AF_UNIX)` + `connect` to a path for which `lookup` says `socket`: call
 *    `connectXenstore()` and serve read/write/poll of the socket fd with the connection.
 *  - `mmap` of a Xen fd: follow the returned `MmapPlan`.
 */

import { Hypervisor, WarnSink } from './interfaces';
import { ENODEV, ENOENT, ENOTTY } from './errno';
import { SimHypervisor } from './sim/hypervisor';
import { SimConfig } from './sim/config';
import { XenstoreConnection, XenstoreServer } from './xenstore/server';
import { seedXenstore } from './xenstore/seed';
import { HypercallBufFile, PrivcmdFile } from './ioctls/privcmd';
import { EvtchnFile } from './ioctls/evtchn';
import { GntallocFile, GntdevFile } from './ioctls/gnt';
import { MmapPlan, XenFile } from './ioctls/common';

/** Paths libxenstore tries for the xenstored socket (/var/run is a symlink to /run on Debian). */
export const XENSTORED_SOCKET_PATHS = ['/var/run/xenstored/socket', '/run/xenstored/socket'] as const;

/** What a path is. Character devices carry Linux misc-device numbers (dynamic minors on Linux). */
export type XenPath =
  | { readonly type: 'chr'; readonly device: 'privcmd' | 'hypercall' | 'evtchn' | 'gntdev' | 'gntalloc' | 'xenbus'; readonly rdev: { major: number; minor: number } }
  | { readonly type: 'sock' }
  | { readonly type: 'dir' }
  | { readonly type: 'file'; readonly content: () => string };

const MISC = 10;
const DEVICES: Record<string, XenPath> = {
  '/dev/xen/privcmd': { type: 'chr', device: 'privcmd', rdev: { major: MISC, minor: 122 } },
  '/dev/xen/hypercall': { type: 'chr', device: 'hypercall', rdev: { major: MISC, minor: 121 } },
  '/dev/xen/evtchn': { type: 'chr', device: 'evtchn', rdev: { major: MISC, minor: 125 } },
  '/dev/xen/gntdev': { type: 'chr', device: 'gntdev', rdev: { major: MISC, minor: 124 } },
  '/dev/xen/gntalloc': { type: 'chr', device: 'gntalloc', rdev: { major: MISC, minor: 123 } },
  '/dev/xen/xenbus': { type: 'chr', device: 'xenbus', rdev: { major: MISC, minor: 120 } },
  // The legacy /proc/xen nodes are the same drivers (xenfs).
  '/proc/xen/privcmd': { type: 'chr', device: 'privcmd', rdev: { major: 0, minor: 0 } },
  '/proc/xen/xenbus': { type: 'chr', device: 'xenbus', rdev: { major: 0, minor: 0 } },
};

/** Options for the device set. */
export interface XenDevicesOptions {
  /** Offer /dev/xen/hypercall (default true); without it libxencall uses anonymous memory. */
  hypercallDevice?: boolean;
  /** Serve xenstore on the socket path (default true) and/or /dev/xen/xenbus (default true). */
  xenstoreSocket?: boolean;
  xenbusDevice?: boolean;
  /** Overrides of the socket path, as XENSTORED_PATH does for libxenstore. */
  socketPath?: string;
}

/** /dev/xen/xenbus: the xenstore byte stream on a character device. */
class XenbusFile implements XenFile {
  readonly device = 'xenbus' as const;
  constructor(readonly conn: XenstoreConnection) {}
  ioctl(): number {
    return -ENOTTY;
  }
  read(max: number): Uint8Array | number {
    return this.conn.read(max);
  }
  write(data: Uint8Array): number {
    this.conn.write(data);
    return data.length;
  }
  readable(): boolean {
    return this.conn.readable();
  }
  close(): void {
    this.conn.close();
  }
}

/** All Xen devices and files of one emulated dom0. */
export class XenDevices {
  private readonly paths = new Map<string, XenPath>();

  constructor(readonly hv: Hypervisor, readonly store: XenstoreServer | undefined, readonly warn: WarnSink, private readonly opts: XenDevicesOptions = {}) {
    for (const [p, d] of Object.entries(DEVICES)) {
      if (d.type === 'chr' && d.device === 'hypercall' && opts.hypercallDevice === false) continue;
      if (d.type === 'chr' && d.device === 'xenbus' && (opts.xenbusDevice === false || !store)) continue;
      this.paths.set(p, d);
    }
    for (const dir of ['/dev/xen', '/proc/xen', '/sys/hypervisor', '/sys/hypervisor/version', '/sys/hypervisor/properties']) this.paths.set(dir, { type: 'dir' });
    if (store && opts.xenstoreSocket !== false) {
      for (const p of opts.socketPath ? [opts.socketPath] : XENSTORED_SOCKET_PATHS) {
        this.paths.set(p, { type: 'sock' });
        this.paths.set(p.slice(0, p.lastIndexOf('/')), { type: 'dir' });
      }
    }
    for (const [p, f] of Object.entries(procAndSysFiles(hv))) this.paths.set(p, { type: 'file', content: f });
  }

  /** The simulated host: a SimHypervisor from `config` and a xenstore seeded from it. */
  static simulated(config?: SimConfig | string | object, warn: WarnSink = () => undefined, opts: XenDevicesOptions = {}): XenDevices {
    const sim = new SimHypervisor(config);
    return new XenDevices(sim, seedXenstore(sim), warn, opts);
  }

  /** What `path` is, or undefined when it is not a Xen path (the engine handles it). */
  lookup(path: string): XenPath | undefined {
    return this.paths.get(path);
  }

  /** Open a device node: the file, or a negative errno. */
  open(path: string): XenFile | number {
    const p = this.paths.get(path);
    if (!p) return -ENOENT;
    if (p.type !== 'chr') return -ENODEV;
    switch (p.device) {
      case 'privcmd': return new PrivcmdFile();
      case 'hypercall': return new HypercallBufFile();
      case 'evtchn': return new EvtchnFile(this.hv.evtchn);
      case 'gntdev': return new GntdevFile(this.hv.grants);
      case 'gntalloc': return new GntallocFile(this.hv.grants);
      case 'xenbus': return this.store ? new XenbusFile(this.store.connect(0)) : -ENODEV;
    }
  }

  /** connect() to the xenstored socket: a connection, or -ENOENT/-ECONNREFUSED-style errno. */
  connectXenstore(path: string): XenstoreConnection | number {
    const p = this.paths.get(path);
    if (!p || p.type !== 'sock' || !this.store) return -ENOENT;
    return this.store.connect(0);
  }
}

export type { MmapPlan, XenFile };

/**
 * Files under /proc/xen and /sys/hypervisor a dom0 has. `capabilities` says "control_d" in the
 * control domain; xenstored's event channel and ring page are what a real xenstored would use.
 */
export function procAndSysFiles(hv: Hypervisor): Record<string, () => string> {
  const sim = hv instanceof SimHypervisor ? hv : undefined;
  const files: Record<string, () => string> = {
    '/proc/xen/capabilities': () => 'control_d\n',
    '/proc/xen/xsd_port': () => '1\n',
    '/sys/hypervisor/type': () => 'xen\n',
  };
  if (sim) {
    const x = sim.cfg.xen;
    files['/sys/hypervisor/version/major'] = () => `${x.major}\n`;
    files['/sys/hypervisor/version/minor'] = () => `${x.minor}\n`;
    files['/sys/hypervisor/version/extra'] = () => `${x.extra}\n`;
    files['/sys/hypervisor/properties/capabilities'] = () => `${x.capabilities}\n`;
    files['/sys/hypervisor/properties/changeset'] = () => `${x.changeset}\n`;
    files['/sys/hypervisor/uuid'] = () => `${sim.caller()?.uuidText() ?? '00000000-0000-0000-0000-000000000000'}\n`;
    // dom0's /proc/uptime: seconds since boot and an idle figure, as the kernel prints them.
    files['/proc/uptime'] = () => {
      const up = sim.uptime();
      return `${up.toFixed(2)} ${(up * sim.cfg.host.nrCpus * 0.9).toFixed(2)}\n`;
    };
  }
  return files;
}
