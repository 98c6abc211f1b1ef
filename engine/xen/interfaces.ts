/**
 * The small interfaces through which the CPU/memory/syscall engine and the Xen library talk.
 *
 * The engine owns the guest address space, shadow memory and file descriptors; `engine/xen`
 * owns the meaning of Xen's devices, hypercalls and xenstore. Nothing here knows about Unicorn,
 * memcheck's shadow encoding or Valgrind's error manager: `ParamChecker` is the whole channel to
 * memcheck, and `--tool=none` passes `NO_CHECKS`.
 */

/**
 * Guest memory as the hypervisor sees it: guest virtual addresses of the calling process.
 * Addresses are JS numbers (amd64 user addresses are < 2^47, exact in a double).
 */
export interface GuestMemory {
  /**
   * Copy `len` bytes out of the guest. Returns undefined when any byte is unmapped (the
   * hypervisor turns that into -EFAULT, as `copy_from_guest` does). Never consults shadow state.
   */
  read(addr: number, len: number): Uint8Array | undefined;
  /** Copy bytes into the guest; false when any byte is unmapped or not writable. */
  write(addr: number, data: Uint8Array): boolean;
  /** True when every byte of [addr, addr+len) is mapped. */
  isMapped(addr: number, len: number): boolean;
}

/**
 * What memcheck needs to know about a hypercall or Xen ioctl. The engine supplies it;
 * `--tool=none` supplies `NO_CHECKS`.
 *
 * `what` is the complete parameter name for "Syscall param <what> points to …" messages and for
 * `Memcheck:Param` suppressions. Its grammar (see hypercalls/naming.ts):
 *   ioctl(privcmd hypercall <hypercall> [<sub-op>] <member>)     e.g.
 *   ioctl(privcmd hypercall domctl getvcpuinfo u.getvcpuinfo.vcpu)
 *   ioctl(privcmd hypercall sysctl getdomaininfolist *u.getdomaininfolist.buffer)
 *   ioctl(privcmd hypercall multicall[0] memory_op get_sharing_freed_pages cmd)
 *   ioctl(privcmd mmapbatch_v2 *arr)
 */
export interface ParamChecker {
  /** The callee reads these bytes: report unaddressable or undefined bytes (first bad byte). */
  preRead(addr: number, len: number, what: string): void;
  /** The callee will write these bytes: report unaddressable ones (Valgrind's PRE_MEM_WRITE). */
  preWrite(addr: number, len: number, what: string): void;
  /** The callee wrote these bytes (after success): mark them defined. */
  postWrite(addr: number, len: number): void;
}

/** A checker that checks nothing (`--tool=none`, or the simulator's own internal calls). */
export const NO_CHECKS: ParamChecker = {
  preRead() { /* nothing to check without memcheck */ },
  preWrite() { /* nothing to check without memcheck */ },
  postWrite() { /* nothing to mark without memcheck */ },
};

/** Receives one-line warnings (unknown hypercall/sub-op/version/ioctl). Deduplicated upstream. */
export type WarnSink = (message: string) => void;

/** A 4096-byte frame of another domain, shared by reference so writes go both ways. */
export type ForeignFrame = Uint8Array;

/**
 * The hypervisor behind the devices: the simulator (`--xen=sim`) or the host passthrough
 * (`--xen=host`). Results are Xen's `long` return values: negative errno on failure.
 */
export interface Hypervisor {
  /** Issue hypercall `op` with raw argument values; pointers are guest addresses in `mem`. */
  hypercall(op: number, args: readonly bigint[], mem: GuestMemory): bigint;
  /**
   * The contents of frame `gfn` of domain `domid`, for privcmd MMAP/MMAPBATCH/MMAP_RESOURCE.
   * Returns the frame (the engine maps it into the privcmd window, aliasing it when it can so
   * later writes are seen by the hypervisor) or a negative errno.
   */
  mapForeign(domid: number, gfn: bigint): ForeignFrame | number;
  /**
   * A resource frame (`XENMEM_resource_*`: 0 ioreq server, 1 grant table, 2 vmtrace buffer)
   * for IOCTL_PRIVCMD_MMAP_RESOURCE, or a negative errno.
   */
  mapResource(domid: number, type: number, id: number, frame: bigint): ForeignFrame | number;
  /** Number of frames of a resource (MMAP_RESOURCE size query), or a negative errno. */
  resourceFrames(domid: number, type: number, id: number): number;
  /** Event channels as seen through /dev/xen/evtchn (the Linux driver issues these hypercalls). */
  readonly evtchn: EventChannelHost;
  /** Grants as seen through /dev/xen/gntdev and /dev/xen/gntalloc. */
  readonly grants: GrantHost;
}

/** Event-channel services behind /dev/xen/evtchn. Ports or negative errno. */
export interface EventChannelHost {
  bindVirq(virq: number): number;
  bindInterdomain(remoteDomain: number, remotePort: number): number;
  bindUnboundPort(remoteDomain: number): number;
  unbind(port: number): number;
  notify(port: number): number;
  /** Ports with a pending event, drained by reads of the evtchn fd. */
  pending(port: number): boolean;
  clearPending(port: number): void;
}

/** Grant services behind /dev/xen/gntdev and /dev/xen/gntalloc. Frames or negative errno. */
export interface GrantHost {
  /** The frame granted by `domid` under `ref` (gntdev MAP_GRANT_REF then mmap). */
  mapGrant(domid: number, ref: number): ForeignFrame | number;
  /** Allocate a frame granted to `domid`; returns its grant reference and frame. */
  allocGrant(domid: number, writable: boolean): { ref: number; frame: ForeignFrame } | number;
  /** Revoke a reference made by allocGrant. */
  freeGrant(ref: number): void;
}

/**
 * Engine services the privcmd device needs for foreign mappings: MMAPBATCH(_V2) and
 * MMAP_RESOURCE populate a window the guest first mmap()ed from the privcmd fd.
 */
export interface ForeignMapper {
  /** Map `frame` (4096 bytes) at guest page `addr`, replacing the zero page there. */
  mapFrame(addr: number, frame: ForeignFrame): void;
}

/** Everything a device ioctl needs, bundled so entry points keep short signatures. */
export interface XenContext {
  readonly mem: GuestMemory;
  readonly checker: ParamChecker;
  readonly hv: Hypervisor;
  readonly warn: WarnSink;
  /** Absent where the engine cannot map frames (then MMAPBATCH answers -ENOSYS). */
  readonly mapper?: ForeignMapper;
}
