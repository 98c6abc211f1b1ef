/**
 * `struct xen_domctl`: cmd, interface_version, domain, then the 128-byte payload union at
 * offset 16 (the union holds 8-aligned members). Member names as spelled in each release.
 */

import { arr, f, struct, union, StructType } from './ctypes';
import * as p from './domctl-payloads';
import { R } from './releases';

export const domctlUnion: StructType = union('union xen_domctl_u', [
  f('createdomain', p.createdomain),
  f('getdomaininfo', p.getdomaininfo),
  f('vcpuaffinity', p.vcpuaffinity),
  f('shadow_op', p.shadowOp),
  f('max_mem', p.maxMem),
  f('vcpucontext', p.vcpucontext),
  f('getvcpuinfo', p.getvcpuinfo),
  f('max_vcpus', p.maxVcpus),
  f('scheduler_op', p.schedulerOp),
  f('setdomainhandle', p.setdomainhandle),
  f('setdebugging', p.setdebugging),
  f('irq_permission', p.irqPermission),
  f('iomem_permission', p.iomemPermission),
  f('ioport_permission', p.ioportPermission),
  f('hypercall_init', p.hypercallInit),
  f('settimeoffset', p.settimeoffset),
  f('disable_migrate', p.disableMigrate, { until: R(4, 14) }),
  f('tsc_info', p.tscInfo),
  f('hvmcontext', p.hvmcontext),
  f('hvmcontext_partial', p.hvmcontextPartial),
  f('address_size', p.addressSize),
  f('sendtrigger', p.sendtrigger),
  f('get_device_group', p.getDeviceGroup),
  f('assign_device', p.assignDevice),
  f('bind_pt_irq', p.bindPtIrq),
  f('memory_mapping', p.memoryMapping),
  f('ioport_mapping', p.ioportMapping),
  f('pin_mem_cacheattr', p.pinMemCacheattr, { until: R(4, 10, 1) }),
  f('ext_vcpucontext', p.extVcpucontext),
  f('set_target', p.setTarget),
  f('subscribe', p.subscribe),
  f('debug_op', p.debugOp),
  f('mem_event_op', p.memEventOp, { until: R(4, 5) }),
  f('vm_event_op', p.vmEventOp, { since: R(4, 6) }),
  f('cpuid', p.cpuid, { until: R(4, 12) }),
  f('vcpuextstate', p.vcpuextstate, { since: R(4, 1) }),
  f('access_required', p.setAccessRequired, { since: R(4, 1) }),
  f('getpageframeinfo3', p.getpageframeinfo3),
  f('audit_p2m', p.auditP2m, { since: R(4, 2) }),
  f('set_virq_handler', p.setVirqHandler, { since: R(4, 2) }),
  f('nodeaffinity', p.nodeaffinity, { since: R(4, 3) }),
  f('set_max_evtchn', p.setMaxEvtchn, { since: R(4, 5), until: R(4, 11) }),
  f('cacheflush', p.cacheflush, { since: R(4, 5) }),
  f('vcpu_msrs', p.vcpuMsrs, { since: R(4, 5) }),
  f('vnuma', p.vnuma, { since: R(4, 5) }),
  f('monitor_op', p.monitorOp, { since: R(4, 6) }),
  f('set_gnttab_limits', p.setGnttabLimits, { since: R(4, 10), until: R(4, 11) }),
  f('vuart_op', p.vuartOp, { since: R(4, 10) }),
  f('cpu_policy', p.domctlCpuPolicy, { since: R(4, 12) }),
  f('vmtrace_op', p.vmtraceOp, { since: R(4, 15) }),
  f('paging_mempool', p.pagingMempool, { since: R(4, 17) }),
  f('pad', arr('u8', 128)),
]);

export const xenDomctl: StructType = struct('struct xen_domctl', [
  f('cmd', 'u32'),
  f('interface_version', 'u32'),
  f('domain', 'u16'),
  f('_pad', arr('u16', 3), { since: R(4, 17) }),
  f('u', domctlUnion),
]);
