/**
 * The simulated hypervisor behind `--xen=sim`: answers hypercalls with Xen's semantics for the
 * configured release (4.17 by default), reading and writing the caller's memory through the same
 * layouts the checks use. Handlers live in sim/ops/*, one table per hypercall.
 */

import { EventChannelHost, ForeignFrame, GrantHost, GuestMemory, Hypervisor } from '../interfaces';
import { EEXIST, EFAULT, EINVAL, ENOENT, ENOMEM, ENOSYS, ESRCH } from '../errno';
import { interfaceVersions, R, Release } from '../layouts/releases';
import { GuestFault } from '../layouts/view';
import { loadConfig, SimConfig } from './config';
import { buildState, ConsoleRing, Cpupool, Domain, EventChannels, FrameStore, PAGE } from './state';
import { HANDLERS } from './ops';

/** One hypercall as a handler sees it. */
export interface SimCall {
  readonly sim: SimHypervisor;
  readonly args: readonly bigint[];
  readonly mem: GuestMemory;
}

/** Domain lifecycle notifications (xenstore turns them into @introduceDomain/@releaseDomain). */
export type DomainListener = (event: 'created' | 'destroyed' | 'shutdown', domid: number) => void;

export class SimHypervisor implements Hypervisor {
  readonly cfg: SimConfig;
  readonly release: Release;
  /** The domctl/sysctl interface versions this Xen accepts (others: -EACCES). */
  readonly iface: { domctl: number; sysctl: number };
  readonly domains: Map<number, Domain>;
  readonly pools: Map<number, Cpupool>;
  readonly ring: ConsoleRing;
  readonly frames: FrameStore;
  readonly channels: EventChannels;
  readonly evtchn: EventChannelHost;
  readonly grants: GrantHost;
  /** Pause counts by the toolstack (Xen's controller_pause_count). */
  readonly pauseCount = new Map<number, number>();
  private readonly listeners: DomainListener[] = [];
  private readonly grantFrames = new Map<number, { domid: number; frame: Uint8Array }>();
  private nextGrantRef = 8;

  constructor(config?: SimConfig | string | object) {
    // A complete SimConfig is used as is; partial objects and JSON text go through loadConfig.
    const complete = typeof config === 'object' && config !== null && 'xen' in config && 'domains' in config && 'host' in config && 'clock' in config;
    this.cfg = complete ? (config as SimConfig) : loadConfig(config as string | object | undefined);
    this.release = R(this.cfg.xen.major, this.cfg.xen.minor);
    const iv = interfaceVersions(this.release);
    if (!iv) throw new Error(`xen config: unsupported Xen ${this.cfg.xen.major}.${this.cfg.xen.minor}`);
    this.iface = iv;
    const st = buildState(this.cfg);
    this.domains = st.domains;
    this.pools = st.pools;
    this.ring = st.ring;
    this.frames = st.frames;
    this.channels = st.evtchn;
    for (const d of this.domains.values()) this.pauseCount.set(d.id, d.paused ? 1 : 0);
    const caller = () => this.cfg.caller.domid;
    const ch = this.channels;
    this.evtchn = {
      bindVirq: (virq) => ch.alloc(caller(), { state: 'virq', virq, vcpu: 0, pending: false, masked: false }),
      bindInterdomain: (rd, rp) => this.bindInterdomain(caller(), rd, rp),
      bindUnboundPort: (rd) => ch.alloc(caller(), { state: 'unbound', remoteDom: rd, vcpu: 0, pending: false, masked: false }),
      unbind: (port) => (ch.close(caller(), port) ? 0 : -EINVAL),
      notify: (port) => (ch.send(caller(), port) ? 0 : -EINVAL),
      pending: (port) => ch.get(caller(), port)?.pending ?? false,
      clearPending: (port) => { const p = ch.get(caller(), port); if (p) p.pending = false; },
    };
    this.grants = {
      mapGrant: (domid, ref) => {
        const g = this.grantFrames.get(ref);
        return g && g.domid === domid ? g.frame : -EINVAL;
      },
      allocGrant: (domid) => {
        if (!this.domains.has(domid)) return -ESRCH;
        const ref = this.nextGrantRef++;
        const frame = new Uint8Array(PAGE);
        this.grantFrames.set(ref, { domid: caller(), frame });
        return { ref, frame };
      },
      freeGrant: (ref) => { this.grantFrames.delete(ref); },
    };
  }

  /** Seconds since the epoch: the configured frozen time, or the wall clock. */
  now(): number {
    return this.cfg.clock.now ?? Date.now() / 1000;
  }
  /** Seconds since Xen booted (also dom0's /proc/uptime). */
  uptime(): number {
    return Math.max(0, this.now() - this.cfg.clock.bootTime);
  }
  caller(): Domain | undefined {
    return this.domains.get(this.cfg.caller.domid);
  }
  /** Pages neither owned by a domain nor kept by Xen. */
  freePages(): bigint {
    let used = BigInt(Math.floor(this.cfg.host.xenReservedKb / 4));
    for (const d of this.domains.values()) used += d.totPages;
    const total = this.totalPages();
    return total > used ? total - used : 0n;
  }
  totalPages(): bigint {
    return BigInt(Math.floor(this.cfg.host.totalKb / 4));
  }
  outstandingPages(): bigint {
    let o = 0n;
    for (const d of this.domains.values()) o += d.outstandingPages;
    return o;
  }
  /** Domains in ascending id order. */
  sortedDomains(): Domain[] {
    return [...this.domains.values()].sort((a, b) => a.id - b.id);
  }
  poolOf(d: Domain): Cpupool | undefined {
    return this.pools.get(d.cpupool);
  }

  onDomainEvent(l: DomainListener): void {
    this.listeners.push(l);
  }
  emit(event: 'created' | 'destroyed' | 'shutdown', domid: number): void {
    for (const l of this.listeners) l(event, domid);
  }

  /** Create a domain (XEN_DOMCTL_createdomain); returns the id or a negative errno. */
  createDomain(want: number, init: { handle: Uint8Array; hvm: boolean; maxVcpus: number; cpupool: number }): number {
    let id = want;
    if (id < 0x7ff0) {
      if (this.domains.has(id)) return -EEXIST;
    } else {
      id = 1;
      while (this.domains.has(id)) id++;
      if (id >= 0x7ff0) return -ENOMEM;
    }
    if (!this.pools.has(init.cpupool)) return -ENOENT;
    const d = new Domain({ id, memoryKb: 0, type: init.hvm ? 'hvm' : 'pv', nrVcpus: 0, cpupool: init.cpupool, startTime: Math.floor(this.now()) },
      this.cfg.host.nrCpus, this.cfg.clock.bootTime);
    d.name = undefined;
    d.handle = init.handle.slice();
    d.maxVcpus = init.maxVcpus;
    d.totPages = 0n;
    d.maxPages = 0n;
    // New domains start paused by the toolstack until it unpauses them.
    this.pauseCount.set(id, 1);
    d.paused = true;
    this.domains.set(id, d);
    this.emit('created', id);
    return id;
  }

  destroyDomain(id: number): number {
    if (!this.domains.has(id)) return -ESRCH;
    if (id === this.cfg.caller.domid) return -EINVAL;
    this.domains.delete(id);
    this.pauseCount.delete(id);
    this.channels.reset(id);
    this.emit('destroyed', id);
    return 0;
  }

  private bindInterdomain(dom: number, rd: number, rp: number): number {
    const remote = this.channels.get(rd, rp);
    if (!remote || remote.state !== 'unbound' || (remote.remoteDom !== undefined && remote.remoteDom !== dom && remote.remoteDom !== 0x7ff0)) return -EINVAL;
    const port = this.channels.alloc(dom, { state: 'interdomain', remoteDom: rd, remotePort: rp, vcpu: 0, pending: false, masked: false });
    remote.state = 'interdomain';
    remote.remoteDom = dom;
    remote.remotePort = port;
    return port;
  }

  /** Issue a hypercall. Faults on guest memory become -EFAULT; unmodelled hypercalls -ENOSYS. */
  hypercall(op: number, args: readonly bigint[], mem: GuestMemory): bigint {
    const h = HANDLERS[op];
    if (!h) return BigInt(-ENOSYS);
    try {
      return h({ sim: this, args, mem });
    } catch (e) {
      if (e instanceof GuestFault) return BigInt(-EFAULT);
      throw e;
    }
  }

  /**
   * Frames for privcmd mappings. `gfn` is looked up in the domain's p2m (frames handed out by
   * populate_physmap); the shared-info frame is the domain's; any other frame of an existing
   * domain is a fresh zero page (the simulator does not model guest RAM contents).
   */
  mapForeign(domid: number, gfn: bigint): ForeignFrame | number {
    const d = this.domains.get(domid);
    if (!d) return -ESRCH;
    if (gfn >= d.maxPages + 0x100000n && gfn !== d.sharedInfoFrame) return -EINVAL;
    const mfn = d.p2m.get(gfn) ?? (gfn === d.sharedInfoFrame ? gfn : undefined);
    if (mfn === undefined) {
      const fresh = this.frames.alloc();
      d.p2m.set(gfn, fresh);
      return this.frames.frame(fresh);
    }
    return this.frames.frame(mfn);
  }

  /** Grant-table resources have GNTTAB_MAX_FRAMES frames; other resource types are not modelled. */
  resourceFrames(domid: number, type: number, id: number): number {
    if (!this.domains.has(domid)) return -ESRCH;
    return type === 1 && id === 0 ? 64 : -EINVAL;
  }

  /** XENMEM_resource_grant_table (1) frames of a domain; other resource types are not modelled. */
  mapResource(domid: number, type: number, id: number, frame: bigint): ForeignFrame | number {
    const d = this.domains.get(domid);
    if (!d) return -ESRCH;
    if (type !== 1 || id !== 0) return -EINVAL;
    if (frame >= 64n) return -EINVAL;
    return this.frames.frame(0x7000_0000n + BigInt(domid) * 64n + frame);
  }
}
