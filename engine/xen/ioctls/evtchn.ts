/**
 * /dev/xen/evtchn: binds ports through the hypervisor's event channels; read() returns pending
 * ports (u32 each) and write() of ports unmasks them, as the Linux driver does.
 */

import { XenContext } from '../interfaces';
import { EAGAIN, EINVAL, ENOTTY, EPERM } from '../errno';
import { runIoctl, XenFile } from './common';
import { EventChannelHost } from '../interfaces';

export class EvtchnFile implements XenFile {
  readonly device = 'evtchn' as const;
  private readonly ports = new Set<number>();
  private restrict: number | undefined;
  constructor(private readonly host: EventChannelHost) {}

  ioctl(request: number, argAddr: number, ctx: XenContext): number {
    return runIoctl('evtchn', request, argAddr, ctx, (decl, a) => {
      const bound = (port: number) => { if (port > 0) this.ports.add(port); return port; };
      switch (decl.name) {
        case 'bind_virq': return this.restrict !== undefined ? -EPERM : bound(this.host.bindVirq(a!.num('virq')));
        case 'bind_interdomain': {
          const rd = a!.num('remote_domain');
          if (this.restrict !== undefined && rd !== this.restrict) return -EPERM;
          return bound(this.host.bindInterdomain(rd, a!.num('remote_port')));
        }
        case 'bind_unbound_port': return this.restrict !== undefined ? -EPERM : bound(this.host.bindUnboundPort(a!.num('remote_domain')));
        case 'unbind': {
          const port = a!.num('port');
          if (!this.ports.delete(port)) return -EINVAL;
          return this.host.unbind(port);
        }
        case 'notify': {
          const port = a!.num('port');
          return this.ports.has(port) ? this.host.notify(port) : -EINVAL;
        }
        case 'reset':
          for (const p of this.ports) this.host.clearPending(p);
          return 0;
        case 'restrict_domid': {
          if (this.restrict !== undefined) return -EINVAL;
          this.restrict = a!.num('domid');
          return 0;
        }
        default: return -ENOTTY;
      }
    });
  }
  readable(): boolean {
    return [...this.ports].some((p) => this.host.pending(p));
  }
  /** Pending ports, 4 bytes each; -EAGAIN when none (the fd is non-blocking in practice). */
  read(max: number): Uint8Array | number {
    const pend = [...this.ports].filter((p) => this.host.pending(p)).slice(0, Math.floor(max / 4));
    if (!pend.length) return -EAGAIN;
    const out = new Uint8Array(4 * pend.length);
    pend.forEach((p, i) => { new DataView(out.buffer).setUint32(4 * i, p, true); this.host.clearPending(p); });
    return out;
  }
  /** Unmask ports: accepted whole words only. */
  write(data: Uint8Array): number {
    if (data.length % 4) return -EINVAL;
    return data.length;
  }
  close(): void {
    for (const p of this.ports) this.host.unbind(p);
    this.ports.clear();
  }
}
