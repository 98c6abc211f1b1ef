/** sched_op (hypercall 29) argument structs. */

import { f, h, struct } from './ctypes';

export const shutdown = struct('struct sched_shutdown', [f('reason', 'u32')]);
export const poll = struct('struct sched_poll', [h('ports', 'u32'), f('nr_ports', 'u32'), f('timeout', 'u64')]);
export const remoteShutdown = struct('struct sched_remote_shutdown', [f('domain_id', 'u16'), f('reason', 'u32')]);
export const watchdog = struct('struct sched_watchdog', [f('id', 'u32'), f('timeout', 'u32')]);
export const pinOverride = struct('struct sched_pin_override', [f('pcpu', 'i32')]);
