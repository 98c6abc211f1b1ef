/**
 * `struct xen_sysctl` and the payloads of the sysctl sub-ops that are declared, for Xen 4.0–4.17
 * (sysctl interface 0x07–0x15). Field gates come from the release tags' `public/sysctl.h`.
 */

import { arr, f, h, struct, union, StructType } from './ctypes';
import { bitmapField } from './common';
import { getdomaininfo } from './domctl-payloads';
import { R } from './releases';

export const readconsole = struct('struct xen_sysctl_readconsole', [
  f('clear', 'u8'), f('incremental', 'u8'), f('pad0', 'u8'), f('pad1', 'u8'),
  f('index', 'u32'),
  h('buffer', 'u8'),
  f('count', 'u32'),
]);

export const tbufOp = struct('struct xen_sysctl_tbuf_op', [
  f('cmd', 'u32'),
  ...bitmapField('cpu_mask'),
  f('evt_mask', 'u32'),
  f('buffer_mfn', 'u64'),
  f('size', 'u32'),
]);

/** physinfo moved `capabilities` in 4.10 and gained arch_capabilities in 4.17 (reference §10.3). */
export const physinfo = struct('struct xen_sysctl_physinfo', [
  f('threads_per_core', 'u32'),
  f('cores_per_socket', 'u32'),
  f('nr_cpus', 'u32'),
  f('max_cpu_id', 'u32', { since: R(4, 1) }),
  f('nr_nodes', 'u32', { since: R(4, 1) }),
  f('max_node_id', 'u32'),
  f('cpu_khz', 'u32'),
  f('capabilities', 'u32', { since: R(4, 10) }),
  f('arch_capabilities', 'u32', { since: R(4, 17) }),
  f('pad', 'u32', { since: R(4, 17) }),
  f('total_pages', 'u64'),
  f('free_pages', 'u64'),
  f('scrub_pages', 'u64'),
  f('outstanding_pages', 'u64', { since: R(4, 3) }),
  f('max_mfn', 'u64', { since: R(4, 10) }),
  f('hw_cap', arr('u32', 8)),
  f('max_cpu_id', 'u32', { until: R(4, 0) }),
  h('cpu_to_node', 'u32', { until: R(4, 0) }),
  f('capabilities', 'u32', { until: R(4, 9, 255) }),
]);

export const cputopoElem = struct('struct xen_sysctl_cputopo', [f('core', 'u32'), f('socket', 'u32'), f('node', 'u32')], { since: R(4, 6) });
export const meminfoElem = struct('struct xen_sysctl_meminfo', [f('memsize', 'u64'), f('memfree', 'u64')], { since: R(4, 6) });

export const topologyinfo = struct('struct xen_sysctl_topologyinfo', [
  f('max_cpu_index', 'u32'),
  h('cpu_to_core', 'u32'), h('cpu_to_socket', 'u32'), h('cpu_to_node', 'u32'),
], { since: R(4, 1), until: R(4, 5) });

export const cputopoinfo = struct('struct xen_sysctl_cputopoinfo', [
  f('num_cpus', 'u32'),
  h('cputopo', cputopoElem),
], { since: R(4, 6) });

export const numainfo = struct('struct xen_sysctl_numainfo', [
  f('max_node_index', 'u32', { until: R(4, 5) }),
  h('node_to_memsize', 'u64', { until: R(4, 5) }),
  h('node_to_memfree', 'u64', { until: R(4, 5) }),
  h('node_to_node_distance', 'u32', { until: R(4, 5) }),
  f('num_nodes', 'u32', { since: R(4, 6) }),
  h('meminfo', meminfoElem, { since: R(4, 6) }),
  h('distance', 'u32', { since: R(4, 6) }),
], { since: R(4, 1) });

export const schedId = struct('struct xen_sysctl_sched_id', [f('sched_id', 'u32')]);

export const getdomaininfolist = struct('struct xen_sysctl_getdomaininfolist', [
  f('first_domain', 'u16'),
  f('max_domains', 'u32'),
  h('buffer', getdomaininfo),
  f('num_domains', 'u32'),
]);

export const debugKeys = struct('struct xen_sysctl_debug_keys', [h('keys', 'u8'), f('nr_keys', 'u32')]);

export const cpuinfoElem = struct('struct xen_sysctl_cpuinfo', [f('idletime', 'u64')]);
export const getcpuinfo = struct('struct xen_sysctl_getcpuinfo', [
  f('max_cpus', 'u32'), h('info', cpuinfoElem), f('nr_cpus', 'u32'),
]);

export const availheap = struct('struct xen_sysctl_availheap', [
  f('min_bitwidth', 'u32'), f('max_bitwidth', 'u32'), f('node', 'i32'), f('avail_bytes', 'u64'),
]);

export const cpupoolOp = struct('struct xen_sysctl_cpupool_op', [
  f('op', 'u32'), f('cpupool_id', 'u32'), f('sched_id', 'u32'), f('domid', 'u32'),
  f('cpu', 'u32'), f('n_dom', 'u32'),
  ...bitmapField('cpumap'),
], { since: R(4, 1) });

export const creditSchedule = struct('struct xen_sysctl_credit_schedule', [
  f('tslice_ms', 'u32'), f('ratelimit_us', 'u32'), f('vcpu_migr_delay_us', 'u32', { since: R(4, 11) }),
], { since: R(4, 2) });
export const credit2Schedule = struct('struct xen_sysctl_credit2_schedule', [f('ratelimit_us', 'u32')], { since: R(4, 8) });

export const schedulerOp = struct('struct xen_sysctl_scheduler_op', [
  f('cpupool_id', 'u32'), f('sched_id', 'u32'), f('cmd', 'u32'),
  f('u', union('union xen_sysctl_scheduler_op_u', [
    f('sched_arinc653', struct('struct xen_sysctl_sched_arinc653', [h('schedule', 'u8')])),
    f('sched_credit', creditSchedule, { since: R(4, 2) }),
    f('sched_credit2', credit2Schedule, { since: R(4, 8) }),
  ])),
], { since: R(4, 1) });

export const pciDevice = struct('struct physdev_pci_device', [f('seg', 'u16'), f('bus', 'u8'), f('devfn', 'u8')], { since: R(4, 6) });
export const pcitopoinfo = struct('struct xen_sysctl_pcitopoinfo', [
  f('num_devs', 'u32'), h('devs', pciDevice), h('nodes', 'u32'),
], { since: R(4, 6) });

export const cpuLevellingCaps = struct('struct xen_sysctl_cpu_levelling_caps', [f('caps', 'u32')], { since: R(4, 7) });
export const cpuFeatureset = struct('struct xen_sysctl_cpu_featureset', [
  f('index', 'u32'), f('nr_features', 'u32'), h('features', 'u32'),
], { since: R(4, 7) });

export const cpuidLeaf = struct('struct xen_cpuid_leaf', [
  f('leaf', 'u32'), f('subleaf', 'u32'), f('a', 'u32'), f('b', 'u32'), f('c', 'u32'), f('d', 'u32'),
], { since: R(4, 12) });
export const msrEntry = struct('struct xen_msr_entry', [f('idx', 'u32'), f('flags', 'u32'), f('val', 'u64')], { since: R(4, 12) });

export const sysctlCpuPolicy = struct('struct xen_sysctl_cpu_policy', [
  f('index', 'u32'), f('nr_leaves', 'u32'), f('nr_msrs', 'u32'), f('_rsvd', 'u32'),
  // Debian's 4.17.7 headers spell the handles leaves/msrs (a backported rename); same offsets.
  h('cpuid_policy', cpuidLeaf, { until: R(4, 16) }), h('msr_policy', msrEntry, { until: R(4, 16) }),
  h('leaves', cpuidLeaf, { since: R(4, 17) }), h('msrs', msrEntry, { since: R(4, 17) }),
], { since: R(4, 12) });

/** The payload union: member name → type, as spelled in each release's `struct xen_sysctl`. */
export const sysctlUnion: StructType = union('union xen_sysctl_u', [
  f('readconsole', readconsole),
  f('tbuf_op', tbufOp),
  f('physinfo', physinfo),
  f('topologyinfo', topologyinfo, { since: R(4, 1), until: R(4, 5) }),
  f('cputopoinfo', cputopoinfo, { since: R(4, 6) }),
  f('numainfo', numainfo, { since: R(4, 1) }),
  f('sched_id', schedId),
  f('getdomaininfolist', getdomaininfolist),
  f('debug_keys', debugKeys),
  f('getcpuinfo', getcpuinfo),
  f('availheap', availheap),
  f('cpupool_op', cpupoolOp, { since: R(4, 1) }),
  f('scheduler_op', schedulerOp, { since: R(4, 1) }),
  f('pcitopoinfo', pcitopoinfo, { since: R(4, 6) }),
  f('cpu_levelling_caps', cpuLevellingCaps, { since: R(4, 7) }),
  f('cpu_featureset', cpuFeatureset, { since: R(4, 7) }),
  f('cpu_policy', sysctlCpuPolicy, { since: R(4, 12) }),
  f('pad', arr('u8', 128)),
]);

/** `struct xen_sysctl`: cmd, interface_version, then the 128-byte union at offset 8. */
export const xenSysctl: StructType = struct('struct xen_sysctl', [
  f('cmd', 'u32'),
  f('interface_version', 'u32'),
  f('u', sysctlUnion),
]);
