/**
 * engine/xen: Xen devices, hypercall checks and a simulated hypervisor + xenstore, independent
 * of the CPU/memory engine. Entry points for the engine:
 *
 *  - `XenDevices.simulated(config, warn)` / `new XenDevices(new HostHypervisor(...), ...)`:
 *    paths, stat answers, open() of device nodes, the xenstored socket.
 *  - `XenFile.ioctl(request, argAddr, ctx)` for every ioctl on a Xen fd (`privcmdIoctl` etc.
 *    below are the same, without keeping a file object).
 *  - `XenFile.mmap(...)` → `MmapPlan`.
 *  - `coverage()` / `formatCoverage()` for `--xen-coverage`.
 */

export * from './interfaces';
export { XenDevices, XENSTORED_SOCKET_PATHS, procAndSysFiles } from './devices';
export type { XenPath, XenDevicesOptions } from './devices';
export type { XenFile, MmapPlan } from './ioctls/common';
export { PrivcmdFile, HypercallBufFile } from './ioctls/privcmd';
export { EvtchnFile } from './ioctls/evtchn';
export { GntdevFile, GntallocFile } from './ioctls/gnt';
export { IOCTL, IOCTLS, ioctlDecl } from './ioctls/table';
export { privcmdHypercall, preHypercall, PRIVCMD_SITE } from './hypercalls/dispatch';
export { checkHypercall, pointerLocations } from './hypercalls/walker';
export { DECLARATIONS, HYPERCALL_NAMES, HC } from './hypercalls/registry';
export { SimHypervisor } from './sim/hypervisor';
export { loadConfig, DEFAULT_CONFIG } from './sim/config';
export type { SimConfig, DomainConfig } from './sim/config';
export { XenstoreServer, XenstoreConnection } from './xenstore/server';
export { seedXenstore } from './xenstore/seed';
export { XS } from './xenstore/protocol';
export { HostHypervisor, translateHypercall, ioctlPointerLocations, hostHasXen } from './host';
export type { AddressTranslator, HostPrivcmd } from './host';
export { coverage, formatCoverage } from './coverage';
export { warnOnce } from './warnings';

import { XenContext } from './interfaces';
import { PrivcmdFile } from './ioctls/privcmd';
import { EvtchnFile } from './ioctls/evtchn';
import { GntallocFile, GntdevFile } from './ioctls/gnt';

/**
 * Stateless-style entry points: an ioctl on a fresh file object. Prefer keeping the XenFile from
 * `XenDevices.open` per fd — privcmd remembers RESTRICT and mmap windows, evtchn its ports,
 * gntdev/gntalloc their grant regions.
 */
export function privcmdIoctl(request: number, argAddr: number, ctx: XenContext, file = new PrivcmdFile()): number {
  return file.ioctl(request, argAddr, ctx);
}
export function evtchnIoctl(request: number, argAddr: number, ctx: XenContext, file = new EvtchnFile(ctx.hv.evtchn)): number {
  return file.ioctl(request, argAddr, ctx);
}
export function gntdevIoctl(request: number, argAddr: number, ctx: XenContext, file = new GntdevFile(ctx.hv.grants)): number {
  return file.ioctl(request, argAddr, ctx);
}
export function gntallocIoctl(request: number, argAddr: number, ctx: XenContext, file = new GntallocFile(ctx.hv.grants)): number {
  return file.ioctl(request, argAddr, ctx);
}
