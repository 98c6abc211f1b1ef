/**
 * domctl (hypercall 36): which members Xen reads and writes for each sub-op, interface versions
 * 0x07–0x15 (Xen 4.1–4.17). Every domctl reads cmd, interface_version and domain; Xen copies the
 * whole struct in, but only the members listed here influence what it does.
 */

import { HypercallDecl, Rule } from './decl';
import { arrayOf, bitmap, BUF, IN, INOUT, op, OUT, SELECT, WHEN } from './helpers';
import { xenDomctl } from '../layouts/domctl';
import * as P from '../layouts/domctl-payloads';
import { R, releaseForDomctl } from '../layouts/releases';

/** XEN_DOMCTL_* command numbers used by the simulator too. */
export const DOMCTL = {
  createdomain: 1, destroydomain: 2, pausedomain: 3, unpausedomain: 4, getdomaininfo: 5, setvcpuaffinity: 9,
  max_mem: 11, getvcpuinfo: 14, max_vcpus: 15, scheduler_op: 16, setdomainhandle: 17, getvcpuaffinity: 25,
  resumedomain: 27, settscinfo: 60, gettscinfo: 59, set_address_size: 35, get_address_size: 36,
  setnodeaffinity: 68, getnodeaffinity: 69, get_cpu_policy: 82, set_cpu_policy: 83, hypercall_init: 22,
  setvcpucontext: 12, getvcpucontext: 13, get_paging_mempool_size: 85, set_paging_mempool_size: 86,
  soft_reset: 79,
} as const;

/** Scheduler ids (XEN_SCHEDULER_*). */
export const SCHEDULER = { sedf: 4, credit: 5, credit2: 6, arinc653: 7, rtds: 8, null: 9 } as const;

const perScheduler = (put: boolean): Rule[] => {
  const dir = put ? IN : OUT;
  return [SELECT('sched_id', {
    [SCHEDULER.sedf]: ['sedf', [dir('u.sedf.period', 'u.sedf.slice', 'u.sedf.latency', 'u.sedf.extratime', 'u.sedf.weight')]],
    [SCHEDULER.credit]: ['credit', [dir('u.credit.weight', 'u.credit.cap')]],
    [SCHEDULER.credit2]: ['credit2', [dir('u.credit2.weight', 'u.credit2.cap')]],
    [SCHEDULER.arinc653]: ['arinc653', []],
    [SCHEDULER.rtds]: ['rtds', [dir('u.rtds.period', 'u.rtds.budget', 'u.rtds.flags')]],
    [SCHEDULER.null]: ['null', []],
  })];
};
const perVcpu = (put: boolean): Rule[] => [
  IN('u.v.vcpus', 'u.v.nr_vcpus'), OUT('u.v.nr_vcpus'),
  BUF({
    ptr: 'u.v.vcpus', elem: P.schedparamVcpu, count: { field: 'u.v.nr_vcpus' }, dir: 'none',
    each: [IN('vcpuid'), (put ? IN : OUT)('u')],
  }),
];

const affinity = (dir: 'in' | 'inout' | 'out'): Rule[] => [
  IN('vcpu', 'flags'),
  ...bitmap('cpumap', dir),
  WHEN('flags', 1, bitmap('cpumap_hard', dir)),
  WHEN('flags', 2, bitmap('cpumap_soft', dir)),
];

const assign: Rule[] = [
  IN('machine_bdf', 'machine_sbdf', 'dev', 'flags', 'flag'),
  { when: 'dev', eq: 0, then: [IN('u.pci.machine_sbdf')] },
  { when: 'dev', eq: 1, then: [IN('u.dt.size', 'u.dt.path'), BUF({ ptr: 'u.dt.path', elem: 1, count: { field: 'u.dt.size' }, dir: 'in' })] },
];

const ptIrq: Rule[] = [
  IN('machine_irq', 'irq_type', 'hvm_domid'),
  SELECT('irq_type', {
    0: ['PCI', [IN('u.pci.bus', 'u.pci.device', 'u.pci.intx')]],
    1: ['ISA', [IN('u.isa.isa_irq')]],
    2: ['MSI', [IN('u.msi.gvec', 'u.msi.gflags', 'u.msi.gtable')]],
    3: ['MSI_TRANSLATE', [IN('u.msi.gvec', 'u.msi.gflags', 'u.msi.gtable')]],
    4: ['SPI', [IN('u.spi.spi')]],
  }),
];

const extVcpuFields = ['syscall32_callback_eip', 'sysenter_callback_eip', 'syscall32_callback_cs', 'sysenter_callback_cs',
  'syscall32_disables_events', 'sysenter_disables_events', 'mcg_cap', 'vmce'];

const monitorEvent: Rule = SELECT('event', {
  0: ['CTRLREG', [IN('u.mov_to_cr.index', 'u.mov_to_cr.sync', 'u.mov_to_cr.onchangeonly', 'u.mov_to_cr.bitmask')]],
  1: ['MOV_TO_MSR', [IN('u.mov_to_msr.msr', 'u.mov_to_msr.extended_capture', 'u.mov_to_msr.onchangeonly')]],
  2: ['SINGLESTEP', []],
  3: ['SOFTWARE_BREAKPOINT', []],
  4: ['GUEST_REQUEST', [IN('u.guest_request.sync', 'u.guest_request.allow_userspace')]],
  5: ['DEBUG_EXCEPTION', [IN('u.debug_exception.sync')]],
  6: ['CPUID', []],
  7: ['PRIVILEGED_CALL', []],
  8: ['INTERRUPT', []],
  9: ['DESC_ACCESS', []],
  10: ['EMUL_UNIMPLEMENTED', []],
  11: ['INGUEST_PAGEFAULT', []],
  12: ['VMEXIT', [IN('u.vmexit.sync')]],
  13: ['IO', []],
});

export const domctlDecl: HypercallDecl = {
  nr: 36,
  name: 'domctl',
  args: ['u_domctl'],
  shape: {
    kind: 'envelope', arg: 0, type: xenDomctl,
    header: ['cmd', 'interface_version', 'domain'], cmd: 'cmd',
    version: { field: 'interface_version', release: releaseForDomctl },
  },
  subops: [
    // Fields that did not exist in a release are skipped, so this is exact for 4.1 (ssidref,
    // handle, flags) through 4.17 (plus the limits, grant/vmtrace options, cpupool, arch).
    op('createdomain', 1, [IN('ssidref', 'handle', 'flags', 'iommu_opts', 'max_vcpus', 'max_evtchn_port', 'max_grant_frames',
      'max_maptrack_frames', 'grant_opts', 'vmtrace_size', 'cpupool_id', 'config', 'arch')], { member: 'createdomain', envOut: ['domain'] }),
    op('destroydomain', 2, []),
    op('pausedomain', 3, []),
    op('unpausedomain', 4, []),
    // Xen fills the whole struct for the first domain ≥ domctl.domain and writes its id back.
    op('getdomaininfo', 5, [OUT('')], { member: 'getdomaininfo', envOut: ['domain'] }),
    op('getmemlist', 6, [IN('max_pfns', 'start_pfn', 'buffer'), OUT('num_pfns'),
      arrayOf('buffer', 'u64', { field: 'max_pfns' }, 'out', { postCount: { field: 'num_pfns' } })], { member: 'getmemlist', until: R(4, 10, 1) }),
    // 4.5+: the resulting affinity is copied back into the bitmaps that were passed.
    op('setvcpuaffinity', 9, affinity('inout'), { member: 'vcpuaffinity' }),
    op('shadow_op', 10, [IN('op'), SELECT('op', {
      0: ['OFF', []],
      1: ['ENABLE_TEST', []],
      2: ['ENABLE_LOGDIRTY', []],
      3: ['ENABLE_TRANSLATE', []],
      11: ['CLEAN', [IN('dirty_bitmap'), INOUT('pages'), OUT('stats'), arrayOf('dirty_bitmap', 1, { field: 'pages', div: 8 }, 'out', { nullOk: true })]],
      12: ['PEEK', [IN('dirty_bitmap'), INOUT('pages'), OUT('stats'), arrayOf('dirty_bitmap', 1, { field: 'pages', div: 8 }, 'out', { nullOk: true })]],
      30: ['GET_ALLOCATION', [OUT('mb')]],
      31: ['SET_ALLOCATION', [IN('mb')]],
      32: ['ENABLE', [IN('mode')]],
    })], { member: 'shadow_op' }),
    op('max_mem', 11, [IN('max_memkb')], { member: 'max_mem' }),
    op('setvcpucontext', 12, [IN('vcpu', 'ctxt'), arrayOf('ctxt', P.VCPU_GUEST_CONTEXT_SIZE, 1, 'in', { nullOk: true })], { member: 'vcpucontext' }),
    op('getvcpucontext', 13, [IN('vcpu', 'ctxt'), arrayOf('ctxt', P.VCPU_GUEST_CONTEXT_SIZE, 1, 'out')], { member: 'vcpucontext' }),
    op('getvcpuinfo', 14, [IN('vcpu'), OUT('online', 'blocked', 'running', 'cpu_time', 'cpu')], { member: 'getvcpuinfo' }),
    op('max_vcpus', 15, [IN('max')], { member: 'max_vcpus' }),
    op('scheduler_op', 16, [IN('sched_id', 'cmd'), SELECT('cmd', {
      0: ['putinfo', perScheduler(true)],
      1: ['getinfo', perScheduler(false)],
      2: { name: 'putvcpuinfo', rules: perVcpu(true), since: R(4, 7) },
      3: { name: 'getvcpuinfo', rules: perVcpu(false), since: R(4, 7) },
    })], { member: 'scheduler_op' }),
    op('setdomainhandle', 17, [IN('handle')], { member: 'setdomainhandle' }),
    op('setdebugging', 18, [IN('enable')], { member: 'setdebugging' }),
    op('irq_permission', 19, [IN('pirq', 'allow_access')], { member: 'irq_permission' }),
    op('iomem_permission', 20, [IN('first_mfn', 'nr_mfns', 'allow_access')], { member: 'iomem_permission' }),
    op('ioport_permission', 21, [IN('first_port', 'nr_ports', 'allow_access')], { member: 'ioport_permission' }),
    op('hypercall_init', 22, [IN('gmfn')], { member: 'hypercall_init' }),
    op('settimeoffset', 24, [IN('time_offset_seconds')], { member: 'settimeoffset' }),
    op('getvcpuaffinity', 25, affinity('out'), { member: 'vcpuaffinity' }),
    op('resumedomain', 27, []),
    op('sendtrigger', 28, [IN('trigger', 'vcpu')], { member: 'sendtrigger' }),
    op('subscribe', 29, [IN('port')], { member: 'subscribe' }),
    // A NULL buffer asks for the size.
    op('gethvmcontext', 33, [IN('buffer'), INOUT('size'), arrayOf('buffer', 1, { field: 'size' }, 'out', { nullOk: true })], { member: 'hvmcontext' }),
    op('sethvmcontext', 34, [IN('size', 'buffer'), arrayOf('buffer', 1, { field: 'size' }, 'in')], { member: 'hvmcontext' }),
    op('set_address_size', 35, [IN('size')], { member: 'address_size' }),
    op('get_address_size', 36, [OUT('size')], { member: 'address_size' }),
    op('assign_device', 37, assign, { member: 'assign_device' }),
    op('bind_pt_irq', 38, ptIrq, { member: 'bind_pt_irq' }),
    op('memory_mapping', 39, [IN('first_gfn', 'first_mfn', 'nr_mfns', 'add_mapping')], { member: 'memory_mapping' }),
    op('ioport_mapping', 40, [IN('first_gport', 'first_mport', 'nr_ports', 'add_mapping')], { member: 'ioport_mapping' }),
    op('pin_mem_cacheattr', 41, [IN('start', 'end', 'type')], { member: 'pin_mem_cacheattr', until: R(4, 10, 1) }),
    op('set_ext_vcpucontext', 42, [IN('vcpu', 'size', ...extVcpuFields)], { member: 'ext_vcpucontext' }),
    op('get_ext_vcpucontext', 43, [IN('vcpu'), OUT('size', ...extVcpuFields)], { member: 'ext_vcpucontext' }),
    op('test_assign_device', 45, assign, { member: 'assign_device' }),
    op('set_target', 46, [IN('target')], { member: 'set_target' }),
    op('deassign_device', 47, assign, { member: 'assign_device' }),
    op('unbind_pt_irq', 48, ptIrq, { member: 'bind_pt_irq' }),
    op('set_cpuid', 49, [IN('input', 'eax', 'ebx', 'ecx', 'edx')], { member: 'cpuid', until: R(4, 12) }),
    op('get_device_group', 50, [IN('machine_bdf', 'machine_sbdf', 'max_sdevs', 'sdev_array'), OUT('num_sdevs'),
      arrayOf('sdev_array', 'u32', { field: 'max_sdevs' }, 'out', { postCount: { field: 'num_sdevs' } })], { member: 'get_device_group' }),
    op('debug_op', 54, [IN('op', 'vcpu')], { member: 'debug_op' }),
    op('gethvmcontext_partial', 55, [IN('type', 'instance', 'bufsz', 'buffer'),
      arrayOf('buffer', 1, { field: 'bufsz' }, 'out')], { member: 'hvmcontext_partial' }),
    op('mem_event_op', 56, [IN('op', 'mode'), { when: 'op', eq: 0, then: [OUT('port')] }], { member: 'mem_event_op', until: R(4, 5) }),
    op('vm_event_op', 56, [IN('op', 'mode'), SELECT('op', {
      0: ['ENABLE', [OUT('port', 'u.enable.port')]],
      1: ['DISABLE', []],
      2: ['RESUME', []],
      3: { name: 'GET_VERSION', rules: [OUT('u.version')], since: R(4, 13) },
    })], { member: 'vm_event_op', since: R(4, 6) }),
    op('disable_migrate', 58, [IN('disable')], { member: 'disable_migrate', until: R(4, 14) }),
    op('gettscinfo', 59, [IN('out_info'), arrayOf('out_info', P.guestTscInfo, 1, 'out'),
      OUT('tsc_mode', 'gtsc_khz', 'incarnation', 'elapsed_nsec')], { member: 'tsc_info' }),
    op('settscinfo', 60, [IN('info', 'tsc_mode', 'gtsc_khz', 'incarnation', 'elapsed_nsec')], { member: 'tsc_info' }),
    op('getpageframeinfo3', 61, [IN('num', 'array'), arrayOf('array', 'u64', { field: 'num' }, 'inout')], { member: 'getpageframeinfo3' }),
    op('setvcpuextstate', 62, [IN('vcpu', 'xfeature_mask', 'size', 'buffer'), arrayOf('buffer', 1, { field: 'size' }, 'in')], { member: 'vcpuextstate', since: R(4, 1) }),
    // size 0 (or a NULL buffer) asks for the needed size.
    op('getvcpuextstate', 63, [IN('vcpu', 'buffer'), INOUT('size'), OUT('xfeature_mask'),
      arrayOf('buffer', 1, { field: 'size' }, 'out', { nullOk: true })], { member: 'vcpuextstate', since: R(4, 1) }),
    op('set_access_required', 64, [IN('access_required')], { member: 'access_required', since: R(4, 1) }),
    op('audit_p2m', 65, [OUT('orphans', 'm2p_bad', 'p2m_bad')], { member: 'audit_p2m', since: R(4, 2) }),
    op('set_virq_handler', 66, [IN('virq')], { member: 'set_virq_handler', since: R(4, 2) }),
    op('setnodeaffinity', 68, bitmap('nodemap', 'in'), { member: 'nodeaffinity', since: R(4, 3) }),
    op('getnodeaffinity', 69, bitmap('nodemap', 'out'), { member: 'nodeaffinity', since: R(4, 3) }),
    op('set_max_evtchn', 70, [IN('max_port')], { member: 'set_max_evtchn', since: R(4, 5), until: R(4, 11) }),
    op('cacheflush', 71, [IN('start_pfn', 'nr_pfns')], { member: 'cacheflush', since: R(4, 5) }),
    op('get_vcpu_msrs', 72, [IN('vcpu', 'msrs'), INOUT('msr_count'),
      arrayOf('msrs', P.vcpuMsr, { field: 'msr_count' }, 'out', { nullOk: true })], { member: 'vcpu_msrs', since: R(4, 5) }),
    op('set_vcpu_msrs', 73, [IN('vcpu', 'msr_count', 'msrs'), arrayOf('msrs', P.vcpuMsr, { field: 'msr_count' }, 'in')], { member: 'vcpu_msrs', since: R(4, 5) }),
    op('setvnumainfo', 74, [
      IN('nr_vnodes', 'nr_vmemranges', 'nr_vcpus', 'vdistance', 'vcpu_to_vnode', 'vnode_to_pnode', 'vmemrange'),
      arrayOf('vdistance', 'u32', { field: 'nr_vnodes', square: true }, 'in'),
      arrayOf('vcpu_to_vnode', 'u32', { field: 'nr_vcpus' }, 'in'),
      arrayOf('vnode_to_pnode', 'u32', { field: 'nr_vnodes' }, 'in'),
      arrayOf('vmemrange', 32, { field: 'nr_vmemranges' }, 'in'),
    ], { member: 'vnuma', since: R(4, 5) }),
    op('monitor_op', 77, [IN('op'), SELECT('op', {
      0: ['ENABLE', [IN('event'), monitorEvent]],
      1: ['DISABLE', [IN('event'), monitorEvent]],
      2: ['GET_CAPABILITIES', [OUT('event')]],
      3: { name: 'EMULATE_EACH_REP', rules: [IN('event')], since: R(4, 8) },
      4: { name: 'CONTROL_REGISTERS', rules: [IN('event')], since: R(4, 14) },
    })], { member: 'monitor_op', since: R(4, 6) }),
    op('soft_reset', 79, [], { since: R(4, 7) }),
    op('set_gnttab_limits', 80, [IN('grant_frames', 'maptrack_frames')], { member: 'set_gnttab_limits', since: R(4, 10), until: R(4, 11) }),
    op('vuart_op', 81, [IN('cmd'), SELECT('cmd', { 0: ['INIT', [IN('type', 'gfn', 'console_domid'), OUT('evtchn')]] })], { member: 'vuart_op', since: R(4, 10) }),
    op('get_cpu_policy', 82, [
      IN('cpuid_policy', 'msr_policy', 'leaves', 'msrs'), INOUT('nr_leaves', 'nr_msrs'),
      ...['cpuid_policy', 'leaves'].map((h) => arrayOf(h, 24, { field: 'nr_leaves' }, 'out', { nullOk: true })),
      ...['msr_policy', 'msrs'].map((h) => arrayOf(h, 16, { field: 'nr_msrs' }, 'out', { nullOk: true })),
    ], { member: 'cpu_policy', since: R(4, 12) }),
    op('set_cpu_policy', 83, [
      IN('nr_leaves', 'nr_msrs', 'cpuid_policy', 'msr_policy', 'leaves', 'msrs'), OUT('err_leaf', 'err_subleaf', 'err_msr'),
      ...['cpuid_policy', 'leaves'].map((h) => arrayOf(h, 24, { field: 'nr_leaves' }, 'in', { nullOk: true })),
      ...['msr_policy', 'msrs'].map((h) => arrayOf(h, 16, { field: 'nr_msrs' }, 'in', { nullOk: true })),
    ], { member: 'cpu_policy', since: R(4, 13) }),
    op('vmtrace_op', 84, [IN('cmd', 'vcpu'), SELECT('cmd', {
      1: ['enable', []], 2: ['disable', []], 3: ['reset_and_enable', []],
      4: ['output_position', [OUT('value')]],
      5: ['get_option', [IN('key'), OUT('value')]],
      6: ['set_option', [IN('key', 'value')]],
    })], { member: 'vmtrace_op', since: R(4, 15) }),
    op('get_paging_mempool_size', 85, [OUT('size')], { member: 'paging_mempool', since: R(4, 17) }),
    op('set_paging_mempool_size', 86, [IN('size')], { member: 'paging_mempool', since: R(4, 17) }),
  ],
};
