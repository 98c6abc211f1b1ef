/**
 * The simulated host, as described by a `--xen-config` JSON file. Every field is optional; what
 * is missing comes from `DEFAULT_CONFIG` (4 pCPUs, 16 GiB, credit2, Xen 4.17, Domain-0 with
 * 4 GiB and 4 vCPUs, and one PV guest), so a file only states what it changes.
 */

export interface VcpuConfig {
  /** 'running' | 'blocked' | 'runnable' | 'offline'. */
  state?: 'running' | 'blocked' | 'runnable' | 'offline';
  /** Physical CPU it last ran on. */
  cpu?: number;
  /** Accumulated run time, nanoseconds. */
  timeNs?: number;
  /** Hard/soft affinity as pCPU lists (default: all). */
  hard?: number[];
  soft?: number[];
}

export interface DomainConfig {
  id: number;
  name?: string;
  /** Domain handle (UUID) as text; Domain-0's is all zeros. */
  uuid?: string;
  type?: 'pv' | 'hvm' | 'pvh';
  memoryKb: number;
  maxmemKb?: number;
  outstandingKb?: number;
  vcpus?: VcpuConfig[];
  /** Number of vCPUs when `vcpus` is not given (all running on cpu i % nr_cpus). */
  nrVcpus?: number;
  paused?: boolean;
  dying?: boolean;
  /** Shut down with this reason (0 poweroff, 1 reboot, 2 suspend, 3 crash, 4 watchdog, 5 soft_reset). */
  shutdownReason?: number;
  cpupool?: number;
  ssidref?: number;
  /** Seconds since the Unix epoch at which the domain was created (default: boot time). */
  startTime?: number;
  credit?: { weight?: number; cap?: number };
  credit2?: { weight?: number; cap?: number };
  /** Extra xenstore nodes below /local/domain/<id> (relative paths). */
  xenstore?: Record<string, string>;
}

export interface CpupoolConfig {
  id: number;
  name: string;
  /** 'credit' | 'credit2' | 'rtds' | 'arinc653' | 'null'. */
  scheduler: string;
  cpus: number[];
  credit?: { tsliceMs?: number; ratelimitUs?: number; migrDelayUs?: number };
  credit2?: { ratelimitUs?: number };
}

export interface SimConfig {
  xen: {
    major: number;
    minor: number;
    extra: string;
    changeset: string;
    compiler: string;
    compileBy: string;
    compileDomain: string;
    compileDate: string;
    capabilities: string;
    commandline: string;
    /** Hex string. */
    buildId: string;
    virtStart: string;
    /** XENFEAT_* submap 0. */
    features: number;
    /** FLASK enabled: xsm_op answers; otherwise -ENOSYS. */
    flask: boolean;
  };
  host: {
    nrCpus: number;
    threadsPerCore: number;
    coresPerSocket: number;
    nrNodes: number;
    cpuKhz: number;
    totalKb: number;
    /** Memory Xen keeps for itself (not free, not in any domain). */
    xenReservedKb: number;
    scrubKb: number;
    maxMfn: number;
    hwCap: number[];
    /** Physical capabilities: pv, hvm, hap, shadow, directio, iommu_hap_pt_share, vmtrace, vpmu, gnttab-v1, gnttab-v2. */
    capabilities: string[];
    /** NUMA node distances (nrNodes × nrNodes); default 10 on the diagonal, 20 elsewhere. */
    distances?: number[][];
    /** CPU levelling caps and featureset words for the CPUID sysctls. */
    levellingCaps: number;
    featureset: number[];
    /** CPUID leaves `[leaf, subleaf, a, b, c, d]` and MSRs `[index, value]` for cpu policy sysctls. */
    cpuidLeaves: number[][];
    msrs: Array<[number, number]>;
  };
  /** Wall clock: when Xen booted, and (for reproducible tests) a frozen "now". Unix seconds. */
  clock: { bootTime: number; now?: number };
  console: { size: number; text: string };
  cpupools: CpupoolConfig[];
  /** The domain issuing hypercalls (the toolstack runs in it). */
  caller: { domid: number };
  domains: DomainConfig[];
  /** Extra xenstore nodes (absolute paths). */
  xenstore: Record<string, string>;
}

const GiB = 1024 * 1024;

/** The built-in host: the machine of reference §6, plus one PV guest. */
export const DEFAULT_CONFIG: SimConfig = {
  xen: {
    major: 4, minor: 17, extra: '.5-sim', changeset: 'simulated',
    compiler: 'gcc (Debian 12.2.0-14) 12.2.0', compileBy: 'pkg-xen-devel', compileDomain: 'example.invalid',
    compileDate: 'Tue Nov  4 16:52:00 UTC 2025',
    capabilities: 'xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64',
    commandline: 'placeholder dom0_mem=4096M,max:4096M',
    buildId: 'deadbeef00000000000000000000000000000000',
    virtStart: '0xffff800000000000',
    // XENFEAT_writable_page_tables … as a dom0 PV kernel sees them.
    features: 0x0000_2705,
    flask: false,
  },
  host: {
    nrCpus: 4, threadsPerCore: 1, coresPerSocket: 4, nrNodes: 1, cpuKhz: 2999998,
    totalKb: 16 * GiB, xenReservedKb: 79 * 1024, scrubKb: 0, maxMfn: 0x43ffff,
    hwCap: [0x178bfbff, 0xf6d8320b, 0x2e500800, 0x040007f3, 0, 0, 0, 0],
    capabilities: ['pv', 'hvm', 'hap', 'shadow', 'gnttab-v1', 'gnttab-v2'],
    levellingCaps: 0x1ff,
    featureset: [0x178bfbff, 0xf6d8320b, 0x2e500800, 0x040007f3],
    cpuidLeaves: [
      [0x0, 0xffffffff, 0xd, 0x68747541, 0x444d4163, 0x69746e65],
      [0x1, 0xffffffff, 0x00a20f12, 0x00040800, 0xf6d8320b, 0x178bfbff],
      [0x7, 0, 0, 0x219c97a9, 0x0040068c, 0x00000010],
      [0xd, 0, 0x7, 0x340, 0x340, 0],
      [0x80000000, 0xffffffff, 0x80000021, 0x68747541, 0x444d4163, 0x69746e65],
      [0x80000001, 0xffffffff, 0x00a20f12, 0, 0x75c237ff, 0x2fd3fbff],
    ],
    msrs: [[0xce, 0], [0x10a, 0]],
  },
  clock: { bootTime: 1764175920 },
  console: {
    size: 16384,
    text:
      '(XEN) Xen version 4.17.5-sim (pkg-xen-devel@example.invalid) (gcc (Debian 12.2.0-14) 12.2.0) debug=n\n' +
      '(XEN) Command line: placeholder dom0_mem=4096M,max:4096M\n' +
      '(XEN) Brought up 4 CPUs\n',
  },
  cpupools: [{ id: 0, name: 'Pool-0', scheduler: 'credit2', cpus: [0, 1, 2, 3], credit2: { ratelimitUs: 1000 } }],
  caller: { domid: 0 },
  domains: [
    {
      id: 0, name: 'Domain-0', uuid: '00000000-0000-0000-0000-000000000000', type: 'pv', memoryKb: 4 * GiB, maxmemKb: 4 * GiB,
      vcpus: [
        { state: 'running', cpu: 0, timeNs: 114_012_345_678 },
        { state: 'blocked', cpu: 1, timeNs: 113_987_654_321 },
        { state: 'blocked', cpu: 2, timeNs: 109_500_000_000 },
        { state: 'blocked', cpu: 3, timeNs: 109_800_000_000 },
      ],
      credit2: { weight: 256, cap: 0 },
    },
    {
      id: 1, name: 'guest1', uuid: '6e1a4d2c-8f4b-4c1e-9a57-3b2f0e9d7c11', type: 'pv', memoryKb: 1 * GiB, maxmemKb: 1 * GiB,
      vcpus: [{ state: 'blocked', cpu: 2, timeNs: 12_300_000_000 }, { state: 'blocked', cpu: 3, timeNs: 11_900_000_000 }],
      startTime: 1764176220,
      credit2: { weight: 256, cap: 0 },
    },
  ],
  xenstore: {},
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Deep-merge a user config over the defaults; arrays (domains, pools, vcpus) replace whole. */
function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) {
    return over as T;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, Json>)) out[k] = merge(out[k], v);
  return out as T;
}

/**
 * Build a full configuration from partial JSON (an object, or text). Throws with a message
 * naming the problem on inconsistent input.
 */
export function loadConfig(input?: string | object): SimConfig {
  const parsed = typeof input === 'string' ? (JSON.parse(input) as object) : input;
  const cfg = merge(DEFAULT_CONFIG, parsed);
  const ids = new Set<number>();
  for (const d of cfg.domains) {
    if (!Number.isInteger(d.id) || d.id < 0 || d.id >= 0x7ff0) throw new Error(`xen config: bad domain id ${d.id}`);
    if (ids.has(d.id)) throw new Error(`xen config: duplicate domain id ${d.id}`);
    ids.add(d.id);
    if (!(d.memoryKb > 0)) throw new Error(`xen config: domain ${d.id} needs memoryKb`);
  }
  if (!cfg.cpupools.some((p) => p.id === 0)) throw new Error('xen config: cpupool 0 is required');
  for (const p of cfg.cpupools) for (const c of p.cpus) if (c < 0 || c >= cfg.host.nrCpus) throw new Error(`xen config: pool ${p.id} names cpu ${c}`);
  return cfg;
}
