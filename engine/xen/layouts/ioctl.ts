/**
 * Linux Xen device ioctl argument structs (privcmd, evtchn, gntdev, gntalloc), amd64, as in the
 * kernel's uapi headers (Debian's libxen-dev ships copies in `xen/sys/*.h`).
 */

import { arr, f, struct, union } from './ctypes';

export const privcmdMmapEntry = struct('struct privcmd_mmap_entry', [f('va', 'u64'), f('mfn', 'u64'), f('npages', 'u64')]);
export const privcmdMmap = struct('struct privcmd_mmap', [f('num', 'i32'), f('dom', 'u16'), f('entry', 'u64')]);
export const privcmdMmapbatch = struct('struct privcmd_mmapbatch', [f('num', 'i32'), f('dom', 'u16'), f('addr', 'u64'), f('arr', 'u64')]);
export const privcmdMmapbatchV2 = struct('struct privcmd_mmapbatch_v2', [f('num', 'u32'), f('dom', 'u16'), f('addr', 'u64'), f('arr', 'u64'), f('err', 'u64')]);
export const privcmdDmOpBuf = struct('struct privcmd_dm_op_buf', [f('uptr', 'u64'), f('size', 'u64')]);
export const privcmdDmOp = struct('struct privcmd_dm_op', [f('dom', 'u16'), f('num', 'u16'), f('ubufs', 'u64')]);
export const privcmdRestrict = struct('domid_t', [f('dom', 'u16')]);
export const privcmdMmapResource = struct('struct privcmd_mmap_resource', [
  f('dom', 'u16'), f('type', 'u32'), f('id', 'u32'), f('idx', 'u32'), f('num', 'u64'), f('addr', 'u64'),
]);

export const evtchnBindVirq = struct('struct ioctl_evtchn_bind_virq', [f('virq', 'u32')]);
export const evtchnBindInterdomain = struct('struct ioctl_evtchn_bind_interdomain', [f('remote_domain', 'u32'), f('remote_port', 'u32')]);
export const evtchnBindUnboundPort = struct('struct ioctl_evtchn_bind_unbound_port', [f('remote_domain', 'u32')]);
export const evtchnUnbind = struct('struct ioctl_evtchn_unbind', [f('port', 'u32')]);
export const evtchnNotify = struct('struct ioctl_evtchn_notify', [f('port', 'u32')]);
export const evtchnRestrictDomid = struct('struct ioctl_evtchn_restrict_domid', [f('domid', 'u16')]);

export const gntdevGrantRef = struct('struct ioctl_gntdev_grant_ref', [f('domid', 'u32'), f('ref', 'u32')]);
/** `refs[1]` is a flexible array in practice: `count` elements follow from offset 16. */
export const gntdevMapGrantRef = struct('struct ioctl_gntdev_map_grant_ref', [f('count', 'u32'), f('pad', 'u32'), f('index', 'u64'), f('refs', arr(gntdevGrantRef, 1))]);
export const gntdevUnmapGrantRef = struct('struct ioctl_gntdev_unmap_grant_ref', [f('index', 'u64'), f('count', 'u32'), f('pad', 'u32')]);
export const gntdevGetOffsetForVaddr = struct('struct ioctl_gntdev_get_offset_for_vaddr', [f('vaddr', 'u64'), f('offset', 'u64'), f('count', 'u32'), f('pad', 'u32')]);
export const gntdevSetMaxGrants = struct('struct ioctl_gntdev_set_max_grants', [f('count', 'u32')]);
export const gntdevUnmapNotify = struct('struct ioctl_gntdev_unmap_notify', [f('index', 'u64'), f('action', 'u32'), f('event_channel_port', 'u32')]);
const copyEnd = union('', [f('virt', 'u64'), f('foreign', struct('', [f('ref', 'u32'), f('offset', 'u16'), f('domid', 'u16')]))]);
export const gntdevGrantCopySegment = struct('struct ioctl_gntdev_grant_copy_segment', [f('source', copyEnd), f('dest', copyEnd), f('len', 'u16'), f('flags', 'u16'), f('status', 'i16')]);
export const gntdevGrantCopy = struct('struct ioctl_gntdev_grant_copy', [f('count', 'u32'), f('segments', 'u64')]);
export const gntdevDmabufExpFromRefs = struct('struct ioctl_gntdev_dmabuf_exp_from_refs', [f('flags', 'u32'), f('count', 'u32'), f('fd', 'u32'), f('domid', 'u32'), f('refs', arr('u32', 1))]);
export const gntdevDmabufExpWaitReleased = struct('struct ioctl_gntdev_dmabuf_exp_wait_released', [f('fd', 'u32'), f('wait_to_ms', 'u32')]);
export const gntdevDmabufImpToRefs = struct('struct ioctl_gntdev_dmabuf_imp_to_refs', [f('fd', 'u32'), f('count', 'u32'), f('domid', 'u32'), f('reserved', 'u32'), f('refs', arr('u32', 1))]);
export const gntdevDmabufImpRelease = struct('struct ioctl_gntdev_dmabuf_imp_release', [f('fd', 'u32'), f('reserved', 'u32')]);

export const gntallocAllocGref = struct('struct ioctl_gntalloc_alloc_gref', [f('domid', 'u16'), f('flags', 'u16'), f('count', 'u32'), f('index', 'u64'), f('gref_ids', arr('u32', 1))]);
export const gntallocDeallocGref = struct('struct ioctl_gntalloc_dealloc_gref', [f('index', 'u64'), f('count', 'u32')]);
export const gntallocUnmapNotify = struct('struct ioctl_gntalloc_unmap_notify', [f('index', 'u64'), f('action', 'u32'), f('event_channel_port', 'u32')]);
