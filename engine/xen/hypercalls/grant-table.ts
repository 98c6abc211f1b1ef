/** grant_table_op (hypercall 20): `grant_table_op(cmd, uop, count)`, an array of `count` structs. */

import { HypercallDecl, Rule } from './decl';
import { arrayOf, IN, INOUT, op, OUT } from './helpers';
import * as G from '../layouts/grant';
import { StructType } from '../layouts/ctypes';

const TABLE: Array<[string, number, StructType, Rule[]]> = [
  ['map_grant_ref', 0, G.mapGrantRef, [IN('host_addr', 'flags', 'ref', 'dom'), OUT('status', 'handle', 'dev_bus_addr')]],
  ['unmap_grant_ref', 1, G.unmapGrantRef, [IN('host_addr', 'dev_bus_addr', 'handle'), OUT('status')]],
  ['setup_table', 2, G.setupTable, [IN('dom', 'nr_frames', 'frame_list'), OUT('status'), arrayOf('frame_list', 'u64', { field: 'nr_frames' }, 'out')]],
  ['dump_table', 3, G.dumpTable, [IN('dom'), OUT('status')]],
  ['transfer', 4, G.transfer, [IN('mfn', 'domid', 'ref'), OUT('status')]],
  ['copy', 5, G.copy, [IN('source', 'dest', 'len', 'flags'), OUT('status')]],
  ['query_size', 6, G.querySize, [IN('dom'), OUT('nr_frames', 'max_nr_frames', 'status')]],
  ['unmap_and_replace', 7, G.unmapAndReplace, [IN('host_addr', 'new_addr', 'handle'), OUT('status')]],
  ['set_version', 8, G.setVersion, [INOUT('version')]],
  ['get_status_frames', 9, G.getStatusFrames, [IN('nr_frames', 'dom', 'frame_list'), OUT('status'), arrayOf('frame_list', 'u64', { field: 'nr_frames' }, 'out')]],
  ['get_version', 10, G.getVersion, [IN('dom'), OUT('version')]],
  ['swap_grant_ref', 11, G.swapGrantRef, [IN('ref_a', 'ref_b'), OUT('status')]],
  ['cache_flush', 12, G.cacheFlush, [IN('a', 'offset', 'length', 'op')]],
];

export const grantTableOpDecl: HypercallDecl = {
  nr: 20,
  name: 'grant_table_op',
  args: ['cmd', 'uop', 'count'],
  shape: { kind: 'arg', arg: 0 },
  subops: TABLE.map(([n, v, t, r]) => op(n, v, r, { root: { arg: 1, type: t, countArg: 2 } })),
};
