/** xen_version (hypercall 17) argument buffers. */

import { arr, f, struct } from './ctypes';

export const extraversion = struct('xen_extraversion_t', [f('extraversion', arr('u8', 16))]);
export const compileInfo = struct('struct xen_compile_info', [
  f('compiler', arr('u8', 64)), f('compile_by', arr('u8', 16)), f('compile_domain', arr('u8', 32)), f('compile_date', arr('u8', 32)),
]);
export const capabilities = struct('xen_capabilities_info_t', [f('capabilities', arr('u8', 1024))]);
export const changeset = struct('xen_changeset_info_t', [f('changeset', arr('u8', 64))]);
export const platformParameters = struct('struct xen_platform_parameters', [f('virt_start', 'u64')]);
export const featureInfo = struct('struct xen_feature_info', [f('submap_idx', 'u32'), f('submap', 'u32')]);
export const guestHandle = struct('xen_domain_handle_t', [f('handle', arr('u8', 16))]);
export const commandline = struct('xen_commandline_t', [f('commandline', arr('u8', 1024))]);
/** `struct xen_build_id { uint32_t len; unsigned char buf[]; }`: buf follows len. */
export const buildId = struct('struct xen_build_id', [f('len', 'u32')]);
