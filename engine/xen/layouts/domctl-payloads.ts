/**
 * Payload structs of `struct xen_domctl` (Xen 4.1–4.17, domctl interface 0x07–0x15), each written
 * once with the releases its gated fields exist in (taken from the release tags' `domctl.h`).
 */

import { arr, f, h, struct, union } from './ctypes';
import { archDomainConfig, bitmapField, domainHandle } from './common';
import { R } from './releases';

/** `xen_domctl_getdomaininfo` = `xc_domaininfo_t` (also the getdomaininfolist element). */
export const getdomaininfo = struct('struct xen_domctl_getdomaininfo', [
  f('domain', 'u16'),
  f('pad1', 'u16', { since: R(4, 16) }),
  f('flags', 'u32'),
  f('tot_pages', 'u64'),
  f('max_pages', 'u64'),
  f('outstanding_pages', 'u64', { since: R(4, 3) }),
  f('shr_pages', 'u64'),
  f('paged_pages', 'u64', { since: R(4, 2) }),
  f('shared_info_frame', 'u64'),
  f('cpu_time', 'u64'),
  f('nr_online_vcpus', 'u32'),
  f('max_vcpu_id', 'u32'),
  f('ssidref', 'u32'),
  f('handle', domainHandle),
  f('cpupool', 'u32', { since: R(4, 1) }),
  f('gpaddr_bits', 'u8', { since: R(4, 16) }),
  f('pad2', arr('u8', 7), { since: R(4, 16) }),
  // 4.10.1 (domctl 0x0f) added arch_config, 4.10.0 (0x0e) did not.
  f('arch_config', archDomainConfig, { since: R(4, 10, 1) }),
]);

export const createdomain = struct('struct xen_domctl_createdomain', [
  f('ssidref', 'u32'),
  f('handle', domainHandle),
  f('flags', 'u32'),
  f('iommu_opts', 'u32', { since: R(4, 13) }),
  f('max_vcpus', 'u32', { since: R(4, 12) }),
  f('max_evtchn_port', 'u32', { since: R(4, 12) }),
  f('max_grant_frames', 'i32', { since: R(4, 12) }),
  f('max_maptrack_frames', 'i32', { since: R(4, 12) }),
  f('grant_opts', 'u32', { since: R(4, 16) }),
  f('vmtrace_size', 'u32', { since: R(4, 15) }),
  f('cpupool_id', 'u32', { since: R(4, 17) }),
  f('config', archDomainConfig, { since: R(4, 6), until: R(4, 10, 1) }),
  f('arch', archDomainConfig, { since: R(4, 11) }),
]);

export const vcpuaffinity = struct('struct xen_domctl_vcpuaffinity', [
  f('vcpu', 'u32'),
  ...bitmapField('cpumap', { until: R(4, 4) }),
  f('flags', 'u32', { since: R(4, 5) }),
  ...bitmapField('cpumap_hard', { since: R(4, 5) }),
  ...bitmapField('cpumap_soft', { since: R(4, 5) }),
]);

export const shadowOpStats = struct('struct xen_domctl_shadow_op_stats', [f('fault_count', 'u32'), f('dirty_count', 'u32')]);
export const shadowOp = struct('struct xen_domctl_shadow_op', [
  f('op', 'u32'), f('mode', 'u32'), f('mb', 'u32'),
  h('dirty_bitmap', 'u8'),
  f('pages', 'u64'),
  f('stats', shadowOpStats),
]);

export const maxMem = struct('struct xen_domctl_max_mem', [f('max_memkb', 'u64')]);

/** `vcpu_guest_context_t` on x86_64: an opaque 5168-byte blob as far as the checks go. */
export const VCPU_GUEST_CONTEXT_SIZE = 5168;
export const vcpucontext = struct('struct xen_domctl_vcpucontext', [f('vcpu', 'u32'), h('ctxt', arr('u8', VCPU_GUEST_CONTEXT_SIZE))]);

export const getvcpuinfo = struct('struct xen_domctl_getvcpuinfo', [
  f('vcpu', 'u32'), f('online', 'u8'), f('blocked', 'u8'), f('running', 'u8'),
  f('cpu_time', 'u64'), f('cpu', 'u32'),
]);

export const maxVcpus = struct('struct xen_domctl_max_vcpus', [f('max', 'u32')]);

export const schedSedf = struct('struct xen_domctl_sched_sedf', [
  f('period', 'u64'), f('slice', 'u64'), f('latency', 'u64'), f('extratime', 'u32'), f('weight', 'u32'),
], { until: R(4, 5) });
export const schedCredit = struct('struct xen_domctl_sched_credit', [f('weight', 'u16'), f('cap', 'u16')]);
export const schedCredit2 = struct('struct xen_domctl_sched_credit2', [f('weight', 'u16'), f('cap', 'u16', { since: R(4, 10) })], { since: R(4, 1) });
export const schedRtds = struct('struct xen_domctl_sched_rtds', [
  f('period', 'u32'), f('budget', 'u32'), f('flags', 'u32', { since: R(4, 10) }),
], { since: R(4, 5) });
export const schedparamVcpu = struct('struct xen_domctl_schedparam_vcpu', [
  f('u', union('', [f('credit', schedCredit), f('credit2', schedCredit2), f('rtds', schedRtds)])),
  f('vcpuid', 'u32'),
], { since: R(4, 7) });

export const schedulerOp = struct('struct xen_domctl_scheduler_op', [
  f('sched_id', 'u32'),
  f('cmd', 'u32'),
  f('u', union('', [
    f('sedf', schedSedf, { until: R(4, 5) }),
    f('credit', schedCredit),
    f('credit2', schedCredit2, { since: R(4, 1) }),
    f('rtds', schedRtds, { since: R(4, 5) }),
    f('v', struct('', [h('vcpus', schedparamVcpu), f('nr_vcpus', 'u32'), f('padding', 'u32')]), { since: R(4, 7) }),
  ])),
]);

export const setdomainhandle = struct('struct xen_domctl_setdomainhandle', [f('handle', domainHandle)]);
export const setdebugging = struct('struct xen_domctl_setdebugging', [f('enable', 'u8')]);
export const irqPermission = struct('struct xen_domctl_irq_permission', [
  f('pirq', 'u8', { until: R(4, 15) }),
  f('pirq', 'u32', { since: R(4, 16) }),
  f('allow_access', 'u8'),
  f('pad', arr('u8', 3), { since: R(4, 16) }),
]);
export const iomemPermission = struct('struct xen_domctl_iomem_permission', [f('first_mfn', 'u64'), f('nr_mfns', 'u64'), f('allow_access', 'u8')]);
export const ioportPermission = struct('struct xen_domctl_ioport_permission', [f('first_port', 'u32'), f('nr_ports', 'u32'), f('allow_access', 'u8')]);
export const hypercallInit = struct('struct xen_domctl_hypercall_init', [f('gmfn', 'u64')]);
export const settimeoffset = struct('struct xen_domctl_settimeoffset', [
  f('time_offset_seconds', 'i32', { until: R(4, 5) }),
  f('time_offset_seconds', 'i64', { since: R(4, 6) }),
]);
export const guestTscInfo = struct('struct xen_guest_tsc_info', [
  f('tsc_mode', 'u32'), f('gtsc_khz', 'u32'), f('incarnation', 'u32'), f('pad', 'u32'), f('elapsed_nsec', 'u64'),
], { until: R(4, 5) });
export const tscInfo = struct('struct xen_domctl_tsc_info', [
  h('out_info', guestTscInfo, { until: R(4, 5) }),
  f('info', guestTscInfo, { until: R(4, 5) }),
  f('tsc_mode', 'u32', { since: R(4, 6) }),
  f('gtsc_khz', 'u32', { since: R(4, 6) }),
  f('incarnation', 'u32', { since: R(4, 6) }),
  f('pad', 'u32', { since: R(4, 6) }),
  f('elapsed_nsec', 'u64', { since: R(4, 6) }),
]);
export const hvmcontext = struct('struct xen_domctl_hvmcontext', [f('size', 'u32'), h('buffer', 'u8')]);
export const hvmcontextPartial = struct('struct xen_domctl_hvmcontext_partial', [
  f('type', 'u32'), f('instance', 'u32'),
  f('bufsz', 'u64', { since: R(4, 10) }),
  h('buffer', 'u8'),
]);
export const addressSize = struct('struct xen_domctl_address_size', [f('size', 'u32')]);
export const sendtrigger = struct('struct xen_domctl_sendtrigger', [f('trigger', 'u32'), f('vcpu', 'u32')]);
export const getDeviceGroup = struct('struct xen_domctl_get_device_group', [
  f('machine_bdf', 'u32', { until: R(4, 1) }),
  f('machine_sbdf', 'u32', { since: R(4, 2) }),
  f('max_sdevs', 'u32'), f('num_sdevs', 'u32'), h('sdev_array', 'u32'),
]);
export const assignDevice = struct('struct xen_domctl_assign_device', [
  f('machine_bdf', 'u32', { until: R(4, 1) }),
  f('machine_sbdf', 'u32', { since: R(4, 2), until: R(4, 5) }),
  f('dev', 'u32', { since: R(4, 6) }),
  f('flags', 'u32', { since: R(4, 10) }),
  f('u', union('', [
    f('pci', struct('', [f('machine_sbdf', 'u32')])),
    f('dt', struct('', [f('size', 'u32'), h('path', 'u8')])),
  ]), { since: R(4, 6) }),
  f('flag', 'u32', { since: R(4, 6), until: R(4, 9) }),
]);
export const pinMemCacheattr = struct('struct xen_domctl_pin_mem_cacheattr', [f('start', 'u64'), f('end', 'u64'), f('type', 'u32')], { until: R(4, 10, 1) });
export const extVcpucontext = struct('struct xen_domctl_ext_vcpucontext', [
  f('vcpu', 'u32'), f('size', 'u32'),
  f('syscall32_callback_eip', 'u64'), f('sysenter_callback_eip', 'u64'),
  f('syscall32_callback_cs', 'u16'), f('sysenter_callback_cs', 'u16'),
  f('syscall32_disables_events', 'u8'), f('sysenter_disables_events', 'u8'),
  // 4.2 added mcg_cap; 4.3 made it a union with struct hvm_vmce_vcpu (named `vmce` below).
  f('mcg_cap', 'u64', { since: R(4, 2), until: R(4, 2) }),
  f('vmce', struct('struct hvm_vmce_vcpu', [
    f('caps', 'u64'),
    f('mci_ctl2_bank0', 'u64'),
    f('mci_ctl2_bank1', 'u64'),
    f('mcg_ext_ctl', 'u64', { since: R(4, 10) }),
  ]), { since: R(4, 3) }),
]);
export const setTarget = struct('struct xen_domctl_set_target', [f('target', 'u16')]);
export const subscribe = struct('struct xen_domctl_subscribe', [f('port', 'u32')]);
export const debugOp = struct('struct xen_domctl_debug_op', [f('op', 'u32'), f('vcpu', 'u32')]);
export const memEventOp = struct('struct xen_domctl_mem_event_op', [
  f('op', 'u32'), f('mode', 'u32'),
  f('shared_addr', 'u64', { until: R(4, 1) }), f('ring_addr', 'u64', { until: R(4, 1) }), f('gfn', 'u64', { until: R(4, 1) }),
  f('port', 'u32', { since: R(4, 2) }),
], { until: R(4, 5) });
export const vmEventOp = struct('struct xen_domctl_vm_event_op', [
  f('op', 'u32'), f('mode', 'u32'),
  f('port', 'u32', { until: R(4, 12) }),
  f('u', union('', [f('enable', struct('', [f('port', 'u32')])), f('version', 'u32')]), { since: R(4, 13) }),
], { since: R(4, 6) });
export const cpuid = struct('struct xen_domctl_cpuid', [
  f('input', arr('u32', 2)), f('eax', 'u32'), f('ebx', 'u32'), f('ecx', 'u32'), f('edx', 'u32'),
], { until: R(4, 12) });
export const vcpuextstate = struct('struct xen_domctl_vcpuextstate', [
  f('vcpu', 'u32'), f('xfeature_mask', 'u64'), f('size', 'u64'), h('buffer', 'u64'),
], { since: R(4, 1) });
export const setAccessRequired = struct('struct xen_domctl_set_access_required', [f('access_required', 'u8')], { since: R(4, 1) });
export const getpageframeinfo3 = struct('struct xen_domctl_getpageframeinfo3', [f('num', 'u64'), h('array', 'u64')]);
export const nodeaffinity = struct('struct xen_domctl_nodeaffinity', [...bitmapField('nodemap', { since: R(4, 3) })], { since: R(4, 3) });
export const setMaxEvtchn = struct('struct xen_domctl_set_max_evtchn', [f('max_port', 'u32')], { since: R(4, 5), until: R(4, 11) });
export const cacheflush = struct('struct xen_domctl_cacheflush', [f('start_pfn', 'u64'), f('nr_pfns', 'u64')], { since: R(4, 5) });
export const vcpuMsr = struct('struct xen_domctl_vcpu_msr', [f('index', 'u32'), f('reserved', 'u32'), f('value', 'u64')], { since: R(4, 5) });
export const vcpuMsrs = struct('struct xen_domctl_vcpu_msrs', [f('vcpu', 'u32'), f('msr_count', 'u32'), h('msrs', vcpuMsr)], { since: R(4, 5) });
export const monitorOp = struct('struct xen_domctl_monitor_op', [
  f('op', 'u32'), f('event', 'u32'),
  f('u', union('', [
    f('mov_to_cr', struct('', [
      f('index', 'u8'), f('sync', 'u8'), f('onchangeonly', 'u8'),
      f('pad1', 'u8', { since: R(4, 10) }), f('pad2', 'u32', { since: R(4, 10) }), f('bitmask', 'u64', { since: R(4, 10) }),
    ])),
    f('mov_to_msr', struct('', [
      f('extended_capture', 'u8', { until: R(4, 7) }),
      f('msr', 'u32', { since: R(4, 8) }),
      f('onchangeonly', 'u8', { since: R(4, 11) }),
    ])),
    f('guest_request', struct('', [f('sync', 'u8'), f('allow_userspace', 'u8', { since: R(4, 10) })])),
    f('debug_exception', struct('', [f('sync', 'u8')]), { since: R(4, 8) }),
    f('vmexit', struct('', [f('sync', 'u8')]), { since: R(4, 17) }),
  ])),
], { since: R(4, 6) });
export const setVirqHandler = struct('struct xen_domctl_set_virq_handler', [f('virq', 'u32')], { since: R(4, 2) });
export const vuartOp = struct('struct xen_domctl_vuart_op', [
  f('cmd', 'u32'), f('type', 'u32'), f('gfn', 'u64'), f('console_domid', 'u16'), f('pad', arr('u8', 2)), f('evtchn', 'u32'),
], { since: R(4, 10) });
export const domctlCpuPolicy = struct('struct xen_domctl_cpu_policy', [
  f('nr_leaves', 'u32'), f('nr_msrs', 'u32'),
  h('cpuid_policy', 'u8', { until: R(4, 16) }), h('msr_policy', 'u8', { until: R(4, 16) }),
  h('leaves', 'u8', { since: R(4, 17) }), h('msrs', 'u8', { since: R(4, 17) }),
  f('err_leaf', 'u32', { since: R(4, 13) }), f('err_subleaf', 'u32', { since: R(4, 13) }), f('err_msr', 'u32', { since: R(4, 13) }),
], { since: R(4, 12) });
export const pagingMempool = struct('struct xen_domctl_paging_mempool', [f('size', 'u64')], { since: R(4, 17) });
export const memoryMapping = struct('struct xen_domctl_memory_mapping', [
  f('first_gfn', 'u64'), f('first_mfn', 'u64'), f('nr_mfns', 'u64'), f('add_mapping', 'u32'), f('padding', 'u32'),
]);
export const ioportMapping = struct('struct xen_domctl_ioport_mapping', [
  f('first_gport', 'u32'), f('first_mport', 'u32'), f('nr_ports', 'u32'), f('add_mapping', 'u32'),
]);
export const vnuma = struct('struct xen_domctl_vnuma', [
  f('nr_vnodes', 'u32'), f('nr_vmemranges', 'u32'), f('nr_vcpus', 'u32'), f('pad', 'u32'),
  h('vdistance', 'u32'), h('vcpu_to_vnode', 'u32'), h('vnode_to_pnode', 'u32'),
  h('vmemrange', struct('struct xen_vmemrange', [f('start', 'u64'), f('end', 'u64'), f('flags', 'u32'), f('nid', 'u32')])),
], { since: R(4, 5) });
export const disableMigrate = struct('struct xen_domctl_disable_migrate', [f('disable', 'u32')], { until: R(4, 14) });
export const setGnttabLimits = struct('struct xen_domctl_set_gnttab_limits', [f('grant_frames', 'u32'), f('maptrack_frames', 'u32')], { since: R(4, 10), until: R(4, 11) });
export const auditP2m = struct('struct xen_domctl_audit_p2m', [f('orphans', 'u64'), f('m2p_bad', 'u64'), f('p2m_bad', 'u64')], { since: R(4, 2) });
export const vmtraceOp = struct('struct xen_domctl_vmtrace_op', [f('cmd', 'u32'), f('vcpu', 'u32'), f('key', 'u64'), f('value', 'u64')], { since: R(4, 15) });
export const bindPtIrq = struct('struct xen_domctl_bind_pt_irq', [
  f('machine_irq', 'u32'), f('irq_type', 'u32'),
  f('hvm_domid', 'u32', { until: R(4, 9) }),
  f('u', union('', [
    f('isa', struct('', [f('isa_irq', 'u8')])),
    f('pci', struct('', [f('bus', 'u8'), f('device', 'u8'), f('intx', 'u8')])),
    f('msi', struct('', [f('gvec', 'u8'), f('gflags', 'u32'), f('gtable', 'u64')])),
    f('spi', struct('', [f('spi', 'u16')]), { since: R(4, 6) }),
  ])),
]);
