/**
 * Hypercall numbers → declarations. Every hypercall number has a name (for warnings and the
 * coverage table); those with declarations are checked.
 */

import { HypercallDecl } from './decl';
import { sysctlDecl } from './sysctl';
import { domctlDecl } from './domctl';
import { memoryOpDecl } from './memory-op';
import { xenVersionDecl } from './xen-version';
import { eventChannelOpDecl, eventChannelOpCompatDecl } from './event-channel';
import { grantTableOpDecl } from './grant-table';
import { schedOpDecl } from './sched-op';
import { hvmOpDecl } from './hvm-op';
import { physdevOpDecl } from './physdev-op';
import { mmuextOpDecl } from './mmuext-op';
import { vcpuOpDecl } from './vcpu-op';
import { xsmOpDecl } from './xsm-op';
import { dmOpDecl } from './dm-op';
import { consoleIoDecl } from './console-io';
import { multicallDecl } from './multicall';
import { tmemOpDecl } from './tmem-op';

/** Names of all hypercall numbers (reference §3). */
export const HYPERCALL_NAMES: Readonly<Record<number, string>> = {
  0: 'set_trap_table', 1: 'mmu_update', 2: 'set_gdt', 3: 'stack_switch', 4: 'set_callbacks', 5: 'fpu_taskswitch',
  6: 'sched_op_compat', 7: 'platform_op', 8: 'set_debugreg', 9: 'get_debugreg', 10: 'update_descriptor',
  12: 'memory_op', 13: 'multicall', 14: 'update_va_mapping', 15: 'set_timer_op', 16: 'event_channel_op_compat',
  17: 'xen_version', 18: 'console_io', 19: 'physdev_op_compat', 20: 'grant_table_op', 21: 'vm_assist',
  22: 'update_va_mapping_otherdomain', 23: 'iret', 24: 'vcpu_op', 25: 'set_segment_base', 26: 'mmuext_op',
  27: 'xsm_op', 28: 'nmi_op', 29: 'sched_op', 30: 'callback_op', 31: 'xenoprof_op', 32: 'event_channel_op',
  33: 'physdev_op', 34: 'hvm_op', 35: 'sysctl', 36: 'domctl', 37: 'kexec_op', 38: 'tmem_op', 39: 'argo_op',
  40: 'xenpmu_op', 41: 'dm_op', 42: 'hypfs_op',
  48: 'arch_0', 49: 'arch_1', 50: 'arch_2', 51: 'arch_3', 52: 'arch_4', 53: 'arch_5', 54: 'arch_6', 55: 'arch_7',
};

/** Well-known hypercall numbers used by the code. */
export const HC = {
  memory_op: 12, multicall: 13, event_channel_op_compat: 16, xen_version: 17, console_io: 18, grant_table_op: 20,
  vcpu_op: 24, mmuext_op: 26, xsm_op: 27, sched_op: 29, event_channel_op: 32, physdev_op: 33, hvm_op: 34,
  sysctl: 35, domctl: 36, tmem_op: 38, dm_op: 41,
} as const;

/** All declarations, keyed by number. */
export const DECLARATIONS: ReadonlyMap<number, HypercallDecl> = new Map(
  [
    memoryOpDecl, multicallDecl, eventChannelOpCompatDecl, xenVersionDecl, consoleIoDecl, grantTableOpDecl,
    vcpuOpDecl, mmuextOpDecl, xsmOpDecl, schedOpDecl, eventChannelOpDecl, physdevOpDecl, hvmOpDecl,
    sysctlDecl, domctlDecl, dmOpDecl, tmemOpDecl,
  ].map((d) => [d.nr, d]),
);

/** The declaration of hypercall `op`, if any. */
export function hypercallByNumber(op: number): HypercallDecl | undefined {
  return DECLARATIONS.get(op);
}

/** The name of hypercall `op`, if it is a known number. */
export function hypercallName(op: number): string | undefined {
  return HYPERCALL_NAMES[op];
}
