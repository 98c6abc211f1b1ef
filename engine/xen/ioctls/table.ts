/**
 * The Linux Xen device ioctls as data: request number (computed from `_IOC` like the uapi
 * headers do), argument struct, and which members the kernel reads and writes. PRE/POST come
 * from the same walker as hypercalls; the behaviour lives in ioctls/{privcmd,evtchn,gnt}.ts.
 */

import { StructType } from '../layouts/ctypes';
import * as I from '../layouts/ioctl';
import { Rule } from '../hypercalls/decl';
import { BUF, IN, OUT } from '../hypercalls/helpers';
import { DM_OP_RULES } from '../hypercalls/dm-op';
import { dmOp } from '../layouts/dmop';

const IOC_NONE = 0, IOC_WRITE = 1;
/** `_IOC(dir, type, nr, size)` on x86. */
export function ioc(dir: number, type: string, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type.charCodeAt(0) << 8) | nr) >>> 0;
}

export type XenDevice = 'privcmd' | 'evtchn' | 'gntdev' | 'gntalloc';

export interface IoctlDecl {
  readonly name: string;
  readonly device: XenDevice;
  readonly request: number;
  readonly arg?: StructType;
  readonly rules: readonly Rule[];
  /** Present only in kernels from this version on (Debian 12 runs 6.1). */
  readonly sinceKernel?: string;
}

const d = (device: XenDevice, name: string, type: string, nr: number, arg: StructType | undefined, size: number, rules: Rule[], extra: Partial<IoctlDecl> = {}, dir = IOC_NONE): IoctlDecl =>
  ({ device, name, request: ioc(dir, type, nr, size), arg, rules, ...extra });

export const IOCTLS: readonly IoctlDecl[] = [
  // privcmd ('P')
  d('privcmd', 'hypercall', 'P', 0, undefined, 48, []),
  d('privcmd', 'mmap', 'P', 2, I.privcmdMmap, 16, [IN('num', 'dom', 'entry'),
    BUF({ ptr: 'entry', elem: I.privcmdMmapEntry, count: { field: 'num' }, dir: 'in' })]),
  // V1 reports per-frame errors by setting the top nibble of the frame number in place.
  d('privcmd', 'mmapbatch', 'P', 3, I.privcmdMmapbatch, 24, [IN('num', 'dom', 'addr', 'arr'),
    BUF({ ptr: 'arr', elem: 'u64', count: { field: 'num' }, dir: 'inout' })]),
  d('privcmd', 'mmapbatch_v2', 'P', 4, I.privcmdMmapbatchV2, 32, [IN('num', 'dom', 'addr', 'arr', 'err'),
    BUF({ ptr: 'arr', elem: 'u64', count: { field: 'num' }, dir: 'in' }),
    BUF({ ptr: 'err', elem: 'i32', count: { field: 'num' }, dir: 'out' })]),
  // The first buffer is a struct xen_dm_op; the kernel passes all buffers to Xen. With num 0
  // (libxendevicemodel's open-time probe) Linux returns before it looks at ubufs.
  d('privcmd', 'dm_op', 'P', 5, I.privcmdDmOp, 16, [IN('dom', 'num'),
    { when: 'num', then: [IN('ubufs')] },
    BUF({ ptr: 'ubufs', elem: I.privcmdDmOpBuf, count: { field: 'num' }, dir: 'in' }),
    { when: 'num', then: [BUF({ ptr: 'ubufs', elem: I.privcmdDmOpBuf, count: 1, dir: 'none', name: '*ubufs', each: [BUF({ ptr: 'uptr', elem: dmOp, count: 1, dir: 'none', name: '*ubufs[0].uptr', each: DM_OP_RULES })] })] }]),
  d('privcmd', 'restrict', 'P', 6, I.privcmdRestrict, 2, [IN('dom')]),
  // addr 0 and num 0: a size query answered in num.
  d('privcmd', 'mmap_resource', 'P', 7, I.privcmdMmapResource, 32, [IN('dom', 'type', 'id', 'idx', 'addr'), { inout: ['num'] }]),
  d('privcmd', 'irqfd', 'P', 8, undefined, 24, [], { sinceKernel: '6.7' }, IOC_WRITE),
  d('privcmd', 'ioeventfd', 'P', 9, undefined, 48, [], { sinceKernel: '6.7' }, IOC_WRITE),
  d('privcmd', 'unimplemented', 'P', 0xff, undefined, 0, []),
  // evtchn ('E'): the result is the port.
  d('evtchn', 'bind_virq', 'E', 0, I.evtchnBindVirq, 4, [IN('virq')]),
  d('evtchn', 'bind_interdomain', 'E', 1, I.evtchnBindInterdomain, 8, [IN('remote_domain', 'remote_port')]),
  d('evtchn', 'bind_unbound_port', 'E', 2, I.evtchnBindUnboundPort, 4, [IN('remote_domain')]),
  d('evtchn', 'unbind', 'E', 3, I.evtchnUnbind, 4, [IN('port')]),
  d('evtchn', 'notify', 'E', 4, I.evtchnNotify, 4, [IN('port')]),
  d('evtchn', 'reset', 'E', 5, undefined, 0, []),
  d('evtchn', 'restrict_domid', 'E', 6, I.evtchnRestrictDomid, 2, [IN('domid')]),
  // gntdev ('G'): refs[] and gref_ids[] are flexible arrays starting at offset 16.
  d('gntdev', 'map_grant_ref', 'G', 0, I.gntdevMapGrantRef, 24, [IN('count'), OUT('index'),
    BUF({ ptr: { inline: 16 }, elem: I.gntdevGrantRef, count: { field: 'count' }, dir: 'in', name: 'refs' })]),
  d('gntdev', 'unmap_grant_ref', 'G', 1, I.gntdevUnmapGrantRef, 16, [IN('index', 'count')]),
  d('gntdev', 'get_offset_for_vaddr', 'G', 2, I.gntdevGetOffsetForVaddr, 24, [IN('vaddr'), OUT('offset', 'count')]),
  d('gntdev', 'set_max_grants', 'G', 3, I.gntdevSetMaxGrants, 4, [IN('count')]),
  d('gntdev', 'set_unmap_notify', 'G', 7, I.gntdevUnmapNotify, 16, [IN('index', 'action', 'event_channel_port')]),
  d('gntdev', 'grant_copy', 'G', 8, I.gntdevGrantCopy, 16, [IN('count', 'segments'),
    BUF({ ptr: 'segments', elem: I.gntdevGrantCopySegment, count: { field: 'count' }, dir: 'none', name: 'segments',
      each: [IN('source', 'dest', 'len', 'flags'), OUT('status')] })]),
  d('gntdev', 'dmabuf_exp_from_refs', 'G', 9, I.gntdevDmabufExpFromRefs, 20, [IN('flags', 'count', 'domid'), OUT('fd'),
    BUF({ ptr: { inline: 16 }, elem: 'u32', count: { field: 'count' }, dir: 'in', name: 'refs' })]),
  d('gntdev', 'dmabuf_exp_wait_released', 'G', 10, I.gntdevDmabufExpWaitReleased, 8, [IN('fd', 'wait_to_ms')]),
  d('gntdev', 'dmabuf_imp_to_refs', 'G', 11, I.gntdevDmabufImpToRefs, 20, [IN('fd', 'count', 'domid'),
    BUF({ ptr: { inline: 16 }, elem: 'u32', count: { field: 'count' }, dir: 'out', name: 'refs' })]),
  d('gntdev', 'dmabuf_imp_release', 'G', 12, I.gntdevDmabufImpRelease, 8, [IN('fd')]),
  // gntalloc ('G'; SET_UNMAP_NOTIFY shares its number with gntdev's)
  d('gntalloc', 'alloc_gref', 'G', 5, I.gntallocAllocGref, 24, [IN('domid', 'flags', 'count'), OUT('index'),
    BUF({ ptr: { inline: 16 }, elem: 'u32', count: { field: 'count' }, dir: 'out', name: 'gref_ids' })]),
  d('gntalloc', 'dealloc_gref', 'G', 6, I.gntallocDeallocGref, 16, [IN('index', 'count')]),
  d('gntalloc', 'set_unmap_notify', 'G', 7, I.gntallocUnmapNotify, 16, [IN('index', 'action', 'event_channel_port')]),
];

/** The declaration of `request` on `device`. */
export function ioctlDecl(device: XenDevice, request: number): IoctlDecl | undefined {
  return IOCTLS.find((x) => x.device === device && x.request === request >>> 0);
}

/** Request numbers by `<device>_<name>` (e.g. `privcmd_mmapbatch_v2`), for the engine and tests. */
export const IOCTL: Readonly<Record<string, number>> = Object.fromEntries(IOCTLS.map((x) => [`${x.device}_${x.name}`, x.request]));
