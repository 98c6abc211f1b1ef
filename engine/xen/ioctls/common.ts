/** What every Xen device file shares: the ioctl runner (PRE, behaviour, POST) and the file shape. */

import { ForeignFrame, XenContext } from '../interfaces';
import { EFAULT, ENOTTY } from '../errno';
import { layoutOf } from '../layouts/ctypes';
import { LATEST } from '../layouts/releases';
import { GuestFault, StructRef } from '../layouts/view';
import { checkRules } from '../hypercalls/walker';
import { IoctlDecl, ioctlDecl, XenDevice } from './table';

/** What the engine must do for an mmap of a Xen device fd. */
export type MmapPlan =
  /** Map fresh zero-filled, defined, private-to-this-mapping pages (hypercall buffers, privcmd windows). */
  | { readonly kind: 'anonymous' }
  /** Map these frames, in order, one per page (gntdev/gntalloc); alias them when possible. */
  | { readonly kind: 'frames'; readonly frames: readonly ForeignFrame[] }
  /** Fail the mmap with this errno. */
  | { readonly kind: 'error'; readonly errno: number };

/** An open Xen device. Methods a device lacks behave as on Linux (ENOTTY/EINVAL). */
export interface XenFile {
  readonly device: XenDevice | 'hypercall' | 'xenbus';
  ioctl(request: number, argAddr: number, ctx: XenContext): number;
  mmap?(addr: number, len: number, offset: number): MmapPlan;
  munmap?(addr: number, len: number): void;
  read?(max: number): Uint8Array | number;
  write?(data: Uint8Array): number;
  readable?(): boolean;
  close(): void;
}

/**
 * Run a declared ioctl: PRE checks, `impl` (given the argument struct), POST marking on success.
 * Unknown requests warn once and fail with -ENOTTY, as the Linux driver does.
 */
export function runIoctl(device: XenDevice, request: number, argAddr: number, ctx: XenContext,
  impl: (decl: IoctlDecl, arg: StructRef | undefined) => number): number {
  const decl = ioctlDecl(device, request);
  if (!decl) {
    ctx.warn(`WARNING: unhandled ioctl 0x${(request >>> 0).toString(16)} on /dev/xen/${device}`);
    return -ENOTTY;
  }
  const label = `ioctl(${device} ${decl.name}`;
  const call = checkRules(decl.rules, argAddr, decl.arg, ctx, label);
  let res: number;
  try {
    res = impl(decl, decl.arg ? new StructRef(ctx.mem, argAddr, layoutOf(decl.arg, LATEST)) : undefined);
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    res = -EFAULT;
  }
  call.post(BigInt(res));
  return res;
}
