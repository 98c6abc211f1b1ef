/**
 * Xen releases and the sysctl/domctl interface versions they carry.
 *
 * Layouts are gated by *release* (4.10.1 …) rather than by interface version because one struct
 * is reached through two numbering schemes: `xen_domctl_getdomaininfo` is both a domctl payload
 * and the element of sysctl getdomaininfolist, and the two version counters moved independently.
 * An interface version is mapped to the release whose ABI it denotes (see `releaseForDomctl`).
 */

/** A Xen release encoded as `major << 16 | minor << 8 | patch` (4.17.0 = 0x041100). */
export type Release = number;

/** Encode a release number. */
export function R(major: number, minor: number, patch = 0): Release {
  return (major << 16) | (minor << 8) | patch;
}

/** Human spelling of a release ("4.10.1"). */
export function releaseName(r: Release): string {
  const p = r & 0xff;
  return `${r >> 16}.${(r >> 8) & 0xff}${p ? '.' + p : ''}`;
}

/** The newest release whose layouts are declared; ABI-stable hypercalls use it. */
export const LATEST: Release = R(4, 17);

/**
 * Xen releases with their interface versions, from the release tags' public headers
 * (reference §4). 4.10.1 is listed because it bumped domctl to 0x0f (arch_config in
 * getdomaininfo) without bumping sysctl.
 */
export const RELEASES: ReadonlyArray<{ release: Release; domctl: number; sysctl: number }> = [
  { release: R(4, 0), domctl: 0x06, sysctl: 0x07 },
  { release: R(4, 1), domctl: 0x07, sysctl: 0x08 },
  { release: R(4, 2), domctl: 0x08, sysctl: 0x09 },
  { release: R(4, 3), domctl: 0x09, sysctl: 0x0a },
  { release: R(4, 4), domctl: 0x09, sysctl: 0x0a },
  { release: R(4, 5), domctl: 0x0a, sysctl: 0x0b },
  { release: R(4, 6), domctl: 0x0b, sysctl: 0x0c },
  { release: R(4, 7), domctl: 0x0b, sysctl: 0x0d },
  { release: R(4, 8), domctl: 0x0c, sysctl: 0x0e },
  { release: R(4, 9), domctl: 0x0d, sysctl: 0x0f },
  { release: R(4, 10), domctl: 0x0e, sysctl: 0x10 },
  { release: R(4, 10, 1), domctl: 0x0f, sysctl: 0x10 },
  { release: R(4, 11), domctl: 0x10, sysctl: 0x11 },
  { release: R(4, 12), domctl: 0x11, sysctl: 0x12 },
  { release: R(4, 13), domctl: 0x12, sysctl: 0x12 },
  { release: R(4, 14), domctl: 0x12, sysctl: 0x13 },
  { release: R(4, 15), domctl: 0x13, sysctl: 0x13 },
  { release: R(4, 16), domctl: 0x14, sysctl: 0x14 },
  { release: R(4, 17), domctl: 0x15, sysctl: 0x15 },
];

/** Oldest/newest interface versions whose layouts are declared (inclusive). */
export const DOMCTL_VERSIONS = { min: 0x07, max: 0x15 } as const;
export const SYSCTL_VERSIONS = { min: 0x07, max: 0x15 } as const;

/**
 * The release a domctl interface version denotes. domctl.h changes always bump the domctl
 * version, so the first release carrying a version has that version's layouts.
 */
export function releaseForDomctl(v: number): Release | undefined {
  if (v < DOMCTL_VERSIONS.min || v > DOMCTL_VERSIONS.max) return undefined;
  return RELEASES.find((x) => x.domctl === v)?.release;
}

/**
 * The release a sysctl interface version denotes. Structs from domctl.h embedded in sysctls
 * (the getdomaininfo element) can change without a sysctl bump, so an ambiguous sysctl version
 * maps to the *last* release that used it: 0x10 → 4.10.1 (104-byte element, as shipped by the
 * 4.10.x point releases), 0x12 → 4.13, 0x13 → 4.15.
 */
export function releaseForSysctl(v: number): Release | undefined {
  if (v < SYSCTL_VERSIONS.min || v > SYSCTL_VERSIONS.max) return undefined;
  const all = RELEASES.filter((x) => x.sysctl === v);
  return all.length ? all[all.length - 1].release : undefined;
}

/** The domctl/sysctl interface versions of a release (for the simulator's own version). */
export function interfaceVersions(r: Release): { domctl: number; sysctl: number } | undefined {
  let best: (typeof RELEASES)[number] | undefined;
  for (const x of RELEASES) if (x.release <= r) best = x;
  return best && { domctl: best.domctl, sysctl: best.sysctl };
}
