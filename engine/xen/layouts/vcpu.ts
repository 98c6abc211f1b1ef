/** vcpu_op (hypercall 24) argument structs. */

import { arr, f, struct, union, h } from './ctypes';

export const runstateInfo = struct('struct vcpu_runstate_info', [f('state', 'i32'), f('state_entry_time', 'u64'), f('time', arr('u64', 4))]);
export const registerMemoryArea = struct('struct vcpu_register_runstate_memory_area', [
  f('addr', union('', [h('h', runstateInfo), f('p', 'u64')])),
]);
export const setPeriodicTimer = struct('struct vcpu_set_periodic_timer', [f('period_ns', 'u64')]);
export const setSingleshotTimer = struct('struct vcpu_set_singleshot_timer', [f('timeout_abs_ns', 'u64'), f('flags', 'u32')]);
export const registerVcpuInfo = struct('struct vcpu_register_vcpu_info', [f('mfn', 'u64'), f('offset', 'u32'), f('rsvd', 'u32')]);
export const getPhysid = struct('struct vcpu_get_physid', [f('phys_id', 'u64')]);
/** x86_64 `vcpu_guest_context` as an opaque blob (VCPUOP_initialise). */
export const guestContext = struct('vcpu_guest_context_t', [f('bytes', arr('u8', 5168))]);
