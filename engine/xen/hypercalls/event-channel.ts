/**
 * event_channel_op (hypercall 32, `(cmd, arg)`) and event_channel_op_compat (16, a
 * `struct evtchn_op` carrying cmd and the same payloads).
 */

import { HypercallDecl, Rule, SubOp } from './decl';
import { IN, op, OUT } from './helpers';
import * as E from '../layouts/evtchn';
import { StructType } from '../layouts/ctypes';

/** EVTCHNOP_* */
export const EVTCHNOP = {
  bind_interdomain: 0, bind_virq: 1, bind_pirq: 2, close: 3, send: 4, status: 5, alloc_unbound: 6, bind_ipi: 7,
  bind_vcpu: 8, unmask: 9, reset: 10, init_control: 11, expand_array: 12, set_priority: 13, reset_cont: 14,
} as const;

const TABLE: Array<[string, number, StructType, Rule[]]> = [
  ['bind_interdomain', 0, E.bindInterdomain, [IN('remote_dom', 'remote_port'), OUT('local_port')]],
  ['bind_virq', 1, E.bindVirq, [IN('virq', 'vcpu'), OUT('port')]],
  ['bind_pirq', 2, E.bindPirq, [IN('pirq', 'flags'), OUT('port')]],
  ['close', 3, E.close, [IN('port')]],
  ['send', 4, E.send, [IN('port')]],
  ['status', 5, E.status, [IN('dom', 'port'), OUT('status', 'vcpu', 'u')]],
  ['alloc_unbound', 6, E.allocUnbound, [IN('dom', 'remote_dom'), OUT('port')]],
  ['bind_ipi', 7, E.bindIpi, [IN('vcpu'), OUT('port')]],
  ['bind_vcpu', 8, E.bindVcpu, [IN('port', 'vcpu')]],
  ['unmask', 9, E.unmask, [IN('port')]],
  ['reset', 10, E.reset, [IN('dom')]],
  ['init_control', 11, E.initControl, [IN('control_gfn', 'offset', 'vcpu'), OUT('link_bits')]],
  ['expand_array', 12, E.expandArray, [IN('array_gfn')]],
  ['set_priority', 13, E.setPriority, [IN('port', 'priority')]],
  ['reset_cont', 14, E.reset, [IN('dom')]],
];

export const eventChannelOpDecl: HypercallDecl = {
  nr: 32,
  name: 'event_channel_op',
  args: ['cmd', 'arg'],
  shape: { kind: 'arg', arg: 0 },
  subops: TABLE.map(([n, v, t, r]) => op(n, v, r, { root: { arg: 1, type: t } })),
};

/** The compat form only ever carried sub-ops 0–9 (the members of `struct evtchn_op`). */
export const eventChannelOpCompatDecl: HypercallDecl = {
  nr: 16,
  name: 'event_channel_op_compat',
  args: ['uop'],
  shape: { kind: 'envelope', arg: 0, type: E.evtchnOp, header: ['cmd'], cmd: 'cmd' },
  subops: TABLE.filter(([, v]) => v <= 9).map(([n, v, , r]): SubOp => op(n, v, r, { member: n })),
};
