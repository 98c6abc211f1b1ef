/**
 * Types shared by several Xen interfaces: bitmaps, domain handles, the hypercall envelopes'
 * building blocks.
 */

import { arr, f, h, struct, StructType } from './ctypes';
import { R } from './releases';

/** `xen_domain_handle_t`: the 16-byte UUID. */
export const domainHandle = arr('u8', 16);

/** Pre-4.3 `struct xenctl_cpumap` (bitmap handle + nr_cpus). */
export const xenctlCpumap: StructType = struct('struct xenctl_cpumap', [
  h('bitmap', 'u8'),
  f('nr_cpus', 'u32'),
], { until: R(4, 2) });

/** `struct xenctl_bitmap` (4.3+): the descriptor of a cpumap or nodemap. */
export const xenctlBitmap: StructType = struct('struct xenctl_bitmap', [
  h('bitmap', 'u8'),
  f('nr_bits', 'u32'),
], { since: R(4, 3) });

/**
 * Fields for a bitmap member named `name`, which changed its type in 4.3: exactly one of the two
 * is present in any release. Rules name both `x.nr_bits` and `x.nr_cpus`; the absent one is
 * skipped.
 */
export function bitmapField(name: string, range: { since?: number; until?: number } = {}) {
  const since = range.since;
  const until = range.until;
  const out = [];
  if (since === undefined || since <= R(4, 2)) out.push(f(name, xenctlCpumap, { since, until: until === undefined ? R(4, 2) : Math.min(until, R(4, 2)) }));
  if (until === undefined || until >= R(4, 3)) out.push(f(name, xenctlBitmap, { since: since === undefined ? R(4, 3) : Math.max(since, R(4, 3)), until }));
  return out;
}

/** `struct xen_arch_domainconfig` on x86 (4.6: a dummy char; 4.7+: emulation flags; 4.15+: misc flags). */
export const archDomainConfig: StructType = struct('struct xen_arch_domainconfig', [
  f('dummy', 'i8', { until: R(4, 6) }),
  f('emulation_flags', 'u32', { since: R(4, 7) }),
  f('misc_flags', 'u32', { since: R(4, 15) }),
], { since: R(4, 6) });
