/**
 * The simulated machine's state: domains with their vCPUs, cpupools, the console ring, guest
 * frames, event channels and grants. Built from a SimConfig; mutated by hypercalls.
 */

import { CpupoolConfig, DomainConfig, SimConfig } from './config';

export const PAGE = 4096;

/** XEN_DOMINF_* flag bits. */
export const DOMINF = {
  dying: 1 << 0, hvm_guest: 1 << 1, shutdown: 1 << 2, paused: 1 << 3, blocked: 1 << 4, running: 1 << 5,
  debugged: 1 << 6, xs_domain: 1 << 7, hap: 1 << 8, shutdownShift: 16,
} as const;

/** Scheduler ids by name (XEN_SCHEDULER_*). */
export const SCHED_IDS: Record<string, number> = { sedf: 4, credit: 5, credit2: 6, arinc653: 7, rtds: 8, null: 9 };

export class Vcpu {
  online: boolean;
  running: boolean;
  blocked: boolean;
  cpu: number;
  timeNs: bigint;
  hard: Set<number>;
  soft: Set<number>;
  constructor(nrCpus: number, init: { state?: string; cpu?: number; timeNs?: number; hard?: number[]; soft?: number[] }) {
    const all = Array.from({ length: nrCpus }, (_, i) => i);
    const state = init.state ?? 'blocked';
    this.online = state !== 'offline';
    this.running = state === 'running';
    this.blocked = state === 'blocked';
    this.cpu = init.cpu ?? 0;
    this.timeNs = BigInt(init.timeNs ?? 0);
    this.hard = new Set(init.hard ?? all);
    this.soft = new Set(init.soft ?? all);
  }
}

export class Domain {
  readonly id: number;
  name: string | undefined;
  handle: Uint8Array;
  type: 'pv' | 'hvm' | 'pvh';
  totPages: bigint;
  maxPages: bigint;
  outstandingPages: bigint;
  vcpus: Vcpu[];
  maxVcpus: number;
  paused: boolean;
  dying: boolean;
  shutdownReason: number | undefined;
  cpupool: number;
  ssidref: number;
  startTime: number;
  weight: number;
  cap: number;
  addressSize = 64;
  tsc = { mode: 0, khz: 0, incarnation: 0, elapsedNs: 0n };
  /** HVM params (HVMOP_set_param). */
  readonly params = new Map<number, bigint>();
  /** e820 set through XENMEM_set_memory_map (raw entries). */
  e820: Uint8Array | undefined;
  nodeAffinity: Set<number>;
  cpuPolicy: { leaves: Uint8Array; msrs: Uint8Array } | undefined;
  pagingMempool = 0n;
  sharedInfoFrame: bigint;
  /** Frames allocated to the domain: gfn → mfn. */
  readonly p2m = new Map<bigint, bigint>();
  readonly xenstore: Record<string, string>;

  constructor(cfg: DomainConfig, nrCpus: number, bootTime: number) {
    this.id = cfg.id;
    this.name = cfg.name ?? (cfg.id === 0 ? 'Domain-0' : undefined);
    this.handle = parseUuid(cfg.uuid ?? (cfg.id === 0 ? '00000000-0000-0000-0000-000000000000' : syntheticUuid(cfg.id)));
    this.type = cfg.type ?? 'pv';
    this.totPages = BigInt(Math.floor(cfg.memoryKb / 4));
    this.maxPages = BigInt(Math.floor((cfg.maxmemKb ?? cfg.memoryKb) / 4));
    this.outstandingPages = BigInt(Math.floor((cfg.outstandingKb ?? 0) / 4));
    const vc = cfg.vcpus ?? Array.from({ length: cfg.nrVcpus ?? 1 }, (_, i) => ({ state: 'blocked' as const, cpu: i % nrCpus }));
    this.vcpus = vc.map((v) => new Vcpu(nrCpus, v));
    this.maxVcpus = this.vcpus.length;
    this.paused = cfg.paused ?? false;
    this.dying = cfg.dying ?? false;
    this.shutdownReason = cfg.shutdownReason;
    this.cpupool = cfg.cpupool ?? 0;
    this.ssidref = cfg.ssidref ?? 0;
    this.startTime = cfg.startTime ?? bootTime;
    const sched = cfg.credit2 ?? cfg.credit ?? {};
    this.weight = sched.weight ?? 256;
    this.cap = sched.cap ?? 0;
    this.nodeAffinity = new Set([0]);
    // A plausible machine frame for the shared info page, distinct per domain.
    this.sharedInfoFrame = BigInt(0x1000 + cfg.id * 0x100);
    this.xenstore = cfg.xenstore ?? {};
  }

  /** XEN_DOMINF_* flags as Xen computes them from the domain's and its vCPUs' state. */
  flags(): number {
    let f = 0;
    if (this.dying) f |= DOMINF.dying;
    if (this.type !== 'pv') f |= DOMINF.hvm_guest | DOMINF.hap;
    if (this.shutdownReason !== undefined) f |= DOMINF.shutdown | ((this.shutdownReason & 0xff) << DOMINF.shutdownShift);
    if (this.paused) f |= DOMINF.paused;
    const online = this.vcpus.filter((v) => v.online);
    // Xen: blocked only if every online vCPU is blocked; running if any is running.
    if (online.length > 0 && online.every((v) => v.blocked)) f |= DOMINF.blocked;
    if (!this.paused && online.some((v) => v.running)) f |= DOMINF.running;
    if (this.id === 0) f |= DOMINF.xs_domain;
    return f >>> 0;
  }
  cpuTimeNs(): bigint {
    return this.vcpus.reduce((a, v) => a + v.timeNs, 0n);
  }
  onlineVcpus(): number {
    return this.vcpus.filter((v) => v.online).length;
  }
  maxVcpuId(): number {
    return Math.max(0, this.vcpus.length - 1);
  }
  uuidText(): string {
    return formatUuid(this.handle);
  }
}

export class Cpupool {
  readonly id: number;
  name: string;
  schedId: number;
  cpus: Set<number>;
  tsliceMs: number;
  ratelimitUs: number;
  migrDelayUs: number;
  constructor(cfg: CpupoolConfig) {
    this.id = cfg.id;
    this.name = cfg.name;
    const s = SCHED_IDS[cfg.scheduler];
    if (s === undefined) throw new Error(`xen config: unknown scheduler ${cfg.scheduler}`);
    this.schedId = s;
    this.cpus = new Set(cfg.cpus);
    this.tsliceMs = cfg.credit?.tsliceMs ?? 30;
    this.ratelimitUs = cfg.credit2?.ratelimitUs ?? cfg.credit?.ratelimitUs ?? 1000;
    this.migrDelayUs = cfg.credit?.migrDelayUs ?? 0;
  }
}

/**
 * Xen's console ring: a power-of-two buffer with free-running producer/consumer indices
 * (`conringp`, `conringc`). readconsole copies from max(consumer, index) toward the producer.
 */
export class ConsoleRing {
  readonly buf: Uint8Array;
  prod = 0;
  cons = 0;
  constructor(size: number, text: string) {
    let s = 1;
    while (s < size) s <<= 1;
    this.buf = new Uint8Array(s);
    this.write(new TextEncoder().encode(text));
  }
  write(bytes: Uint8Array): void {
    for (const b of bytes) this.buf[this.prod++ & (this.buf.length - 1)] = b;
    if (this.prod - this.cons > this.buf.length) this.cons = this.prod - this.buf.length;
  }
  /** One readconsole: returns the bytes and the new index. */
  read(max: number, index: number, incremental: boolean, clear: boolean): { bytes: Uint8Array; index: number } {
    let c = this.cons;
    if (incremental && ((index - c) | 0) > 0) c = index;
    const out: number[] = [];
    while (c !== this.prod && out.length < max) out.push(this.buf[c++ & (this.buf.length - 1)]);
    if (clear) this.cons = this.prod - c > this.buf.length ? this.prod - this.buf.length : c;
    return { bytes: Uint8Array.from(out), index: c >>> 0 };
  }
}

/** Machine frames, allocated on first touch (contents shared with privcmd mappings). */
export class FrameStore {
  private readonly frames = new Map<bigint, Uint8Array>();
  private next: bigint;
  constructor(firstFree: bigint) {
    this.next = firstFree;
  }
  alloc(): bigint {
    return this.next++;
  }
  frame(mfn: bigint): Uint8Array {
    let f = this.frames.get(mfn);
    if (!f) { f = new Uint8Array(PAGE); this.frames.set(mfn, f); }
    return f;
  }
}

/** One event channel endpoint. */
export interface Port {
  state: 'unbound' | 'interdomain' | 'virq' | 'ipi';
  remoteDom?: number;
  remotePort?: number;
  virq?: number;
  vcpu: number;
  pending: boolean;
  masked: boolean;
}

/** Per-domain event channel tables (port 0 is reserved, as in Xen). */
export class EventChannels {
  private readonly tables = new Map<number, Map<number, Port>>();
  table(dom: number): Map<number, Port> {
    let t = this.tables.get(dom);
    if (!t) { t = new Map(); this.tables.set(dom, t); }
    return t;
  }
  alloc(dom: number, p: Port): number {
    const t = this.table(dom);
    let n = 1;
    while (t.has(n)) n++;
    t.set(n, p);
    return n;
  }
  get(dom: number, port: number): Port | undefined {
    return this.tables.get(dom)?.get(port);
  }
  close(dom: number, port: number): boolean {
    const p = this.get(dom, port);
    if (!p) return false;
    if (p.state === 'interdomain' && p.remoteDom !== undefined && p.remotePort !== undefined) {
      const r = this.get(p.remoteDom, p.remotePort);
      if (r) { r.state = 'unbound'; r.remotePort = undefined; }
    }
    this.table(dom).delete(port);
    return true;
  }
  reset(dom: number): void {
    for (const port of [...this.table(dom).keys()]) this.close(dom, port);
  }
  /** Raise an event on `port` of `dom` (interdomain: on the peer). */
  send(dom: number, port: number): boolean {
    const p = this.get(dom, port);
    if (!p) return false;
    if (p.state === 'interdomain' && p.remoteDom !== undefined && p.remotePort !== undefined) {
      const r = this.get(p.remoteDom, p.remotePort);
      if (r) r.pending = true;
    } else {
      p.pending = true;
    }
    return true;
  }
}

/** Build the domain table, pools and rings from a config. */
export function buildState(cfg: SimConfig) {
  const domains = new Map<number, Domain>();
  for (const d of cfg.domains) domains.set(d.id, new Domain(d, cfg.host.nrCpus, cfg.clock.bootTime));
  const pools = new Map<number, Cpupool>();
  for (const p of cfg.cpupools) pools.set(p.id, new Cpupool(p));
  return {
    domains,
    pools,
    ring: new ConsoleRing(cfg.console.size, cfg.console.text),
    frames: new FrameStore(BigInt(cfg.host.maxMfn) - 0x100000n),
    evtchn: new EventChannels(),
  };
}

/** Parse a textual UUID into its 16 bytes. */
export function parseUuid(s: string): Uint8Array {
  const hex = s.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`xen config: bad uuid ${s}`);
  return Uint8Array.from(hex.match(/../g)!.map((x) => parseInt(x, 16)));
}

/** Format 16 bytes as a textual UUID. */
export function formatUuid(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A stable UUID for a configured domain that did not state one. */
function syntheticUuid(id: number): string {
  return `00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}`;
}
