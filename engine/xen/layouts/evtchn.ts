/** event_channel_op (hypercalls 32 and, wrapped in `struct evtchn_op`, 16) argument structs. */

import { arr, f, struct, union } from './ctypes';

export const allocUnbound = struct('struct evtchn_alloc_unbound', [f('dom', 'u16'), f('remote_dom', 'u16'), f('port', 'u32')]);
export const bindInterdomain = struct('struct evtchn_bind_interdomain', [f('remote_dom', 'u16'), f('remote_port', 'u32'), f('local_port', 'u32')]);
export const bindVirq = struct('struct evtchn_bind_virq', [f('virq', 'u32'), f('vcpu', 'u32'), f('port', 'u32')]);
export const bindPirq = struct('struct evtchn_bind_pirq', [f('pirq', 'u32'), f('flags', 'u32'), f('port', 'u32')]);
export const bindIpi = struct('struct evtchn_bind_ipi', [f('vcpu', 'u32'), f('port', 'u32')]);
export const close = struct('struct evtchn_close', [f('port', 'u32')]);
export const send = struct('struct evtchn_send', [f('port', 'u32')]);
export const status = struct('struct evtchn_status', [
  f('dom', 'u16'), f('port', 'u32'), f('status', 'u32'), f('vcpu', 'u32'),
  f('u', union('', [
    f('unbound', struct('', [f('dom', 'u16')])),
    f('interdomain', struct('', [f('dom', 'u16'), f('port', 'u32')])),
    f('pirq', 'u32'), f('virq', 'u32'),
  ])),
]);
export const bindVcpu = struct('struct evtchn_bind_vcpu', [f('port', 'u32'), f('vcpu', 'u32')]);
export const unmask = struct('struct evtchn_unmask', [f('port', 'u32')]);
export const reset = struct('struct evtchn_reset', [f('dom', 'u16')]);
export const initControl = struct('struct evtchn_init_control', [
  f('control_gfn', 'u64'), f('offset', 'u32'), f('vcpu', 'u32'), f('link_bits', 'u8'), f('_pad', arr('u8', 7)),
]);
export const expandArray = struct('struct evtchn_expand_array', [f('array_gfn', 'u64')]);
export const setPriority = struct('struct evtchn_set_priority', [f('port', 'u32'), f('priority', 'u32')]);

/** `struct evtchn_op`: the compat hypercall's envelope (cmd + union of the above). */
export const evtchnOp = struct('struct evtchn_op', [
  f('cmd', 'u32'),
  f('u', union('', [
    f('alloc_unbound', allocUnbound), f('bind_interdomain', bindInterdomain), f('bind_virq', bindVirq),
    f('bind_pirq', bindPirq), f('bind_ipi', bindIpi), f('close', close), f('send', send),
    f('status', status), f('bind_vcpu', bindVcpu), f('unmask', unmask),
  ])),
]);
