/** xsm_op (hypercall 27) with FLASK's `struct xen_flask_op` (FLASK interface version 1 only). */

import { HypercallDecl } from './decl';
import { arrayOf, IN, INOUT, op, OUT } from './helpers';
import { flaskOp } from '../layouts/xsm';
import { LATEST } from '../layouts/releases';

/** FLASK_* */
export const FLASK = { SID_TO_CONTEXT: 5 } as const;
const transition = [IN('ssid', 'tsid', 'tclass'), OUT('newsid')];

export const xsmOpDecl: HypercallDecl = {
  nr: 27,
  name: 'xsm_op',
  args: ['op'],
  shape: {
    kind: 'envelope', arg: 0, type: flaskOp, header: ['cmd', 'interface_version'], cmd: 'cmd',
    version: { field: 'interface_version', release: (v) => (v === 1 ? LATEST : undefined) },
  },
  subops: [
    op('load', 1, [IN('buffer', 'size'), arrayOf('buffer', 1, { field: 'size' }, 'in')], { member: 'load' }),
    op('getenforce', 2, []),
    op('setenforce', 3, [IN('enforcing')], { member: 'enforce' }),
    op('context_to_sid', 4, [IN('size', 'context'), OUT('sid'), arrayOf('context', 1, { field: 'size' }, 'in')], { member: 'sid_context' }),
    op('sid_to_context', 5, [IN('sid', 'context'), INOUT('size'), arrayOf('context', 1, { field: 'size' }, 'out')], { member: 'sid_context' }),
    op('access', 6, [IN('ssid', 'tsid', 'tclass', 'req'), OUT('allowed', 'audit_allow', 'audit_deny', 'seqno')], { member: 'access' }),
    op('create', 7, transition, { member: 'transition' }),
    op('relabel', 8, transition, { member: 'transition' }),
    op('policyvers', 10, []),
    op('getbool', 11, [IN('bool_id', 'name'), INOUT('size'), OUT('enforcing', 'pending'),
      arrayOf('name', 1, { field: 'size' }, 'inout', { nullOk: true })], { member: 'boolean' }),
    op('setbool', 12, [IN('bool_id', 'new_value', 'commit', 'size', 'name'), arrayOf('name', 1, { field: 'size' }, 'in', { nullOk: true })], { member: 'boolean' }),
    op('commitbools', 13, []),
    op('mls', 14, []),
    op('getavc_threshold', 16, []),
    op('avc_cachestats', 19, [IN('cpu'), OUT('lookups', 'hits', 'misses', 'allocations', 'reclaims', 'frees')], { member: 'cache_stats' }),
    op('member', 20, transition, { member: 'transition' }),
    op('add_ocontext', 21, [IN('ocon', 'sid', 'low', 'high')], { member: 'ocontext' }),
    op('del_ocontext', 22, [IN('ocon', 'low', 'high')], { member: 'ocontext' }),
    op('get_peer_sid', 23, [IN('evtchn'), OUT('sid')], { member: 'peersid' }),
    op('relabel_domain', 24, [IN('domid', 'sid')], { member: 'relabel' }),
  ],
};
