/** xen_version (hypercall 17): `xen_version(cmd, arg)`; every buffer is OUT except get_features' index and build_id's length. */

import { HypercallDecl } from './decl';
import { IN, op, OUT, BUF } from './helpers';
import * as V from '../layouts/version';
import { StructType } from '../layouts/ctypes';

/** XENVER_* */
export const XENVER = {
  version: 0, extraversion: 1, compile_info: 2, capabilities: 3, changeset: 4, platform_parameters: 5,
  get_features: 6, pagesize: 7, guest_handle: 8, commandline: 9, build_id: 10,
} as const;

const at = (type: StructType) => ({ root: { arg: 1, type } });

export const xenVersionDecl: HypercallDecl = {
  nr: 17,
  name: 'xen_version',
  args: ['cmd', 'arg'],
  shape: { kind: 'arg', arg: 0 },
  subops: [
    op('version', 0, []),
    op('extraversion', 1, [OUT('')], at(V.extraversion)),
    op('compile_info', 2, [OUT('')], at(V.compileInfo)),
    op('capabilities', 3, [OUT('')], at(V.capabilities)),
    op('changeset', 4, [OUT('')], at(V.changeset)),
    op('platform_parameters', 5, [OUT('')], at(V.platformParameters)),
    op('get_features', 6, [IN('submap_idx'), OUT('submap')], at(V.featureInfo)),
    op('pagesize', 7, []),
    op('guest_handle', 8, [OUT('')], at(V.guestHandle)),
    op('commandline', 9, [OUT('')], at(V.commandline)),
    // `len` is the room after it; Xen writes the id there and returns its length.
    op('build_id', 10, [IN('len'), BUF({ ptr: { inline: 4 }, elem: 1, count: { field: 'len' }, postCount: { result: true }, dir: 'out', name: 'buf' })], at(V.buildId)),
  ],
};
