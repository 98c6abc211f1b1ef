/**
 * sysctl (hypercall 35): which members Xen reads and writes for each sub-op, interface versions
 * 0x07–0x15 (Xen 4.0–4.20; layouts by release, see layouts/sysctl.ts).
 */

import { HypercallDecl } from './decl';
import { arrayOf, bitmap, BUF, IN, INOUT, op, OUT, SELECT } from './helpers';
import { xenSysctl } from '../layouts/sysctl';
import * as S from '../layouts/sysctl';
import { getdomaininfo } from '../layouts/domctl-payloads';
import { R, releaseForSysctl } from '../layouts/releases';

/** XEN_SYSCTL_* command numbers used by the simulator too. */
export const SYSCTL = {
  readconsole: 1, tbuf_op: 2, physinfo: 3, sched_id: 4, getdomaininfolist: 6, debug_keys: 7, getcpuinfo: 8,
  availheap: 9, cputopoinfo: 16, numainfo: 17, cpupool_op: 18, scheduler_op: 19, pcitopoinfo: 22,
  get_cpu_levelling_caps: 25, get_cpu_featureset: 26, get_cpu_policy: 29,
} as const;

/** XEN_SYSCTL_CPUPOOL_OP_* */
export const CPUPOOL_OP = { CREATE: 1, DESTROY: 2, INFO: 3, ADDCPU: 4, RMCPU: 5, MOVEDOMAIN: 6, FREEINFO: 7 } as const;

/** sizeof(struct xen_sysctl_arinc653_schedule): major_frame, num entries, 64 × 32-byte entries. */
export const ARINC653_SCHEDULE_SIZE = 16 + 64 * 32;

const schedParams = (m: string, fields: string[]) => ({
  0: ['putinfo', [IN(...fields.map((x) => `u.${m}.${x}`))]] as [string, ReturnType<typeof IN>[]],
  1: ['getinfo', [OUT(...fields.map((x) => `u.${m}.${x}`))]] as [string, ReturnType<typeof OUT>[]],
});

export const sysctlDecl: HypercallDecl = {
  nr: 35,
  name: 'sysctl',
  args: ['u_sysctl'],
  shape: {
    kind: 'envelope', arg: 0, type: xenSysctl,
    header: ['cmd', 'interface_version'], cmd: 'cmd',
    version: { field: 'interface_version', release: releaseForSysctl },
  },
  subops: [
    op('readconsole', 1, [
      IN('clear', 'incremental', 'buffer', 'count'),
      // The read position is only consulted for incremental reads; Xen writes it back always.
      { when: 'incremental', then: [IN('index')] },
      OUT('index', 'count'),
      arrayOf('buffer', 1, { field: 'count' }, 'out'),
    ], { member: 'readconsole' }),
    op('tbuf_op', 2, [
      IN('cmd'),
      SELECT('cmd', {
        0: ['get_info', [OUT('evt_mask', 'buffer_mfn', 'size')]],
        1: ['set_cpu_mask', bitmap('cpu_mask', 'in')],
        2: ['set_evt_mask', [IN('evt_mask')]],
        3: ['set_size', [IN('size')]],
        4: ['enable', []],
        5: ['disable', []],
      }),
    ], { member: 'tbuf_op' }),
    // Xen zeroes and fills the whole struct.
    op('physinfo', 3, [OUT('')], { member: 'physinfo' }),
    op('sched_id', 4, [OUT('sched_id')], { member: 'sched_id' }),
    op('getdomaininfolist', 6, [
      IN('first_domain', 'max_domains', 'buffer'),
      OUT('num_domains'),
      arrayOf('buffer', getdomaininfo, { field: 'max_domains' }, 'out', { postCount: { field: 'num_domains' } }),
    ], { member: 'getdomaininfolist' }),
    op('debug_keys', 7, [IN('keys', 'nr_keys'), arrayOf('keys', 1, { field: 'nr_keys' }, 'in')], { member: 'debug_keys' }),
    op('getcpuinfo', 8, [
      IN('max_cpus', 'info'), OUT('nr_cpus'),
      arrayOf('info', S.cpuinfoElem, { field: 'max_cpus' }, 'out', { postCount: { field: 'nr_cpus' } }),
    ], { member: 'getcpuinfo' }),
    op('availheap', 9, [IN('min_bitwidth', 'max_bitwidth', 'node'), OUT('avail_bytes')], { member: 'availheap' }),
    op('topologyinfo', 16, [
      INOUT('max_cpu_index'), IN('cpu_to_core', 'cpu_to_socket', 'cpu_to_node'),
      ...['cpu_to_core', 'cpu_to_socket', 'cpu_to_node'].map((h) => arrayOf(h, 'u32', { field: 'max_cpu_index', plus: 1 }, 'out', { nullOk: true })),
    ], { member: 'topologyinfo', since: R(4, 1), until: R(4, 5) }),
    op('cputopoinfo', 16, [
      INOUT('num_cpus'), IN('cputopo'),
      // NULL handle: a size query answered in num_cpus.
      arrayOf('cputopo', S.cputopoElem, { field: 'num_cpus' }, 'out', { nullOk: true }),
    ], { member: 'cputopoinfo', since: R(4, 6) }),
    op('numainfo', 17, [
      INOUT('max_node_index', 'num_nodes'),
      IN('node_to_memsize', 'node_to_memfree', 'node_to_node_distance', 'meminfo', 'distance'),
      arrayOf('node_to_memsize', 'u64', { field: 'max_node_index', plus: 1 }, 'out', { nullOk: true }),
      arrayOf('node_to_memfree', 'u64', { field: 'max_node_index', plus: 1 }, 'out', { nullOk: true }),
      arrayOf('node_to_node_distance', 'u32', { field: 'max_node_index', plus: 1, square: true }, 'out', { nullOk: true }),
      arrayOf('meminfo', S.meminfoElem, { field: 'num_nodes' }, 'out', { nullOk: true }),
      arrayOf('distance', 'u32', { field: 'num_nodes', square: true }, 'out', { nullOk: true }),
    ], { member: 'numainfo', since: R(4, 1) }),
    op('cpupool_op', 18, [
      IN('op'),
      SELECT('op', {
        [CPUPOOL_OP.CREATE]: ['CREATE', [IN('cpupool_id', 'sched_id'), OUT('cpupool_id')]],
        [CPUPOOL_OP.DESTROY]: ['DESTROY', [IN('cpupool_id')]],
        [CPUPOOL_OP.INFO]: ['INFO', [IN('cpupool_id'), OUT('cpupool_id', 'sched_id', 'n_dom'), ...bitmap('cpumap', 'out')]],
        [CPUPOOL_OP.ADDCPU]: ['ADDCPU', [IN('cpupool_id', 'cpu')]],
        [CPUPOOL_OP.RMCPU]: ['RMCPU', [IN('cpupool_id', 'cpu')]],
        [CPUPOOL_OP.MOVEDOMAIN]: ['MOVEDOMAIN', [IN('cpupool_id', 'domid')]],
        // Only the bitmap descriptor: libxc leaves cpupool_id uninitialised here (reference §8.10).
        [CPUPOOL_OP.FREEINFO]: ['FREEINFO', bitmap('cpumap', 'out')],
      }),
    ], { member: 'cpupool_op', since: R(4, 1) }),
    op('scheduler_op', 19, [
      IN('cpupool_id', 'sched_id', 'cmd'),
      SELECT('sched_id', {
        5: ['credit', [SELECT('cmd', schedParams('sched_credit', ['tslice_ms', 'ratelimit_us', 'vcpu_migr_delay_us']))]],
        6: ['credit2', [SELECT('cmd', schedParams('sched_credit2', ['ratelimit_us']))]],
        7: ['arinc653', [IN('u.sched_arinc653.schedule'), SELECT('cmd', {
          0: ['putinfo', [BUF({ ptr: 'u.sched_arinc653.schedule', elem: ARINC653_SCHEDULE_SIZE, count: 1, dir: 'in' })]],
          1: ['getinfo', [BUF({ ptr: 'u.sched_arinc653.schedule', elem: ARINC653_SCHEDULE_SIZE, count: 1, dir: 'out' })]],
        })]],
      }),
    ], { member: 'scheduler_op', since: R(4, 1) }),
    op('pcitopoinfo', 22, [
      INOUT('num_devs'), IN('devs', 'nodes'),
      arrayOf('devs', S.pciDevice, { field: 'num_devs' }, 'in'),
      arrayOf('nodes', 'u32', { field: 'num_devs' }, 'out'),
    ], { member: 'pcitopoinfo', since: R(4, 6) }),
    op('get_cpu_levelling_caps', 25, [OUT('caps')], { member: 'cpu_levelling_caps', since: R(4, 7) }),
    op('get_cpu_featureset', 26, [
      IN('index', 'features'), INOUT('nr_features'),
      arrayOf('features', 'u32', { field: 'nr_features' }, 'out', { nullOk: true }),
    ], { member: 'cpu_featureset', since: R(4, 7) }),
    op('get_cpu_policy', 29, [
      IN('index', '_rsvd', 'cpuid_policy', 'msr_policy', 'leaves', 'msrs'), INOUT('nr_leaves', 'nr_msrs'),
      ...['cpuid_policy', 'leaves'].map((h) => arrayOf(h, S.cpuidLeaf, { field: 'nr_leaves' }, 'out', { nullOk: true })),
      ...['msr_policy', 'msrs'].map((h) => arrayOf(h, S.msrEntry, { field: 'nr_msrs' }, 'out', { nullOk: true })),
    ], { member: 'cpu_policy', since: R(4, 12) }),
  ],
};

