/** xsm_op (hypercall 27) with FLASK's `struct xen_flask_op` (interface version 1). */

import { f, h, struct, union } from './ctypes';

export const sidContext = struct('struct xen_flask_sid_context', [f('sid', 'u32'), f('size', 'u32'), h('context', 'u8')]);
export const setenforce = struct('struct xen_flask_setenforce', [f('enforcing', 'u32')]);
export const access = struct('struct xen_flask_access', [
  f('ssid', 'u32'), f('tsid', 'u32'), f('tclass', 'u16'), f('req', 'u32'), f('allowed', 'u32'), f('audit_allow', 'u32'), f('audit_deny', 'u32'), f('seqno', 'u32'),
]);
export const load = struct('struct xen_flask_load', [h('buffer', 'u8'), f('size', 'u32')]);
export const peersid = struct('struct xen_flask_peersid', [f('evtchn', 'u32'), f('sid', 'u32')]);
export const relabel = struct('struct xen_flask_relabel', [f('domid', 'u32'), f('sid', 'u32')]);
export const boolean = struct('struct xen_flask_boolean', [
  f('bool_id', 'u32'), f('enforcing', 'u8'), f('pending', 'u8'), f('new_value', 'u8'), f('commit', 'u8'), f('size', 'u32'), h('name', 'u8'),
]);

export const transition = struct('struct xen_flask_transition', [f('ssid', 'u32'), f('tsid', 'u32'), f('tclass', 'u32'), f('newsid', 'u32')]);
export const ocontext = struct('struct xen_flask_ocontext', [f('ocon', 'u32'), f('sid', 'u32'), f('low', 'u64'), f('high', 'u64')]);
export const cacheStats = struct('struct xen_flask_cache_stats', [
  f('cpu', 'u32'), f('lookups', 'u32'), f('hits', 'u32'), f('misses', 'u32'), f('allocations', 'u32'), f('reclaims', 'u32'), f('frees', 'u32'),
]);

export const flaskOp = struct('struct xen_flask_op', [
  f('cmd', 'u32'),
  f('interface_version', 'u32'),
  f('u', union('', [
    f('load', load), f('enforce', setenforce), f('sid_context', sidContext), f('access', access),
    f('transition', transition), f('boolean', boolean), f('ocontext', ocontext), f('cache_stats', cacheStats),
    f('peersid', peersid), f('relabel', relabel),
  ])),
]);
