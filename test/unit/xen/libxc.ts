/**
 * A miniature libxc/libxencall for tests: builds hypercall buffers and privcmd argument blocks
 * the way the real libraries do (the caller's partly-initialised struct is bounced into a
 * page+0x10 buffer, so unset bytes stay undefined), then issues them through the privcmd device.
 */

import { GuestMemory, Hypervisor, XenContext } from '../../../engine/xen/interfaces';
import { PrivcmdFile } from '../../../engine/xen/ioctls/privcmd';
import { IOCTL } from '../../../engine/xen/ioctls/table';
import { layoutOf, StructType } from '../../../engine/xen/layouts/ctypes';
import { LATEST, Release } from '../../../engine/xen/layouts/releases';
import { StructRef } from '../../../engine/xen/layouts/view';
import { warnOnce } from '../../../engine/xen/warnings';
import { SimHypervisor } from '../../../engine/xen/sim/hypervisor';
import { xenSysctl } from '../../../engine/xen/layouts/sysctl';
import { xenDomctl } from '../../../engine/xen/layouts/domctl';
import { FakeMemory, RecordingChecker } from './fakes';

export class Guest {
  readonly mem = new FakeMemory();
  readonly checker = new RecordingChecker(this.mem);
  readonly warnings: string[] = [];
  readonly warn = warnOnce((m) => this.warnings.push(m));
  readonly privcmd = new PrivcmdFile();
  /** Program-side stores: bytes written through this view become defined. */
  readonly prog: GuestMemory;
  readonly mapped: Array<{ addr: number; frame: Uint8Array }> = [];

  constructor(readonly hv: Hypervisor = new SimHypervisor()) {
    const mem = this.mem;
    this.prog = {
      read: (a, l) => mem.read(a, l),
      write: (a, d) => { if (!mem.isMapped(a, d.length)) return false; mem.store(a, d); return true; },
      isMapped: (a, l) => mem.isMapped(a, l),
    };
  }

  get ctx(): XenContext {
    return { mem: this.mem, checker: this.checker, hv: this.hv, warn: this.warn, mapper: { mapFrame: (addr, frame) => { this.mapped.push({ addr, frame }); } } };
  }

  /** A bounce buffer holding a struct whose bytes are undefined until the caller sets them. */
  bounce(type: StructType, release: Release = LATEST): StructRef {
    const l = layoutOf(type, release);
    const addr = this.mem.alloc(l.size + 0x10) + 0x10;
    return new StructRef(this.prog, addr, l);
  }
  /** A zeroed, defined out-buffer (fresh hypercall-buffer pages). */
  outBuffer(len: number): number {
    return this.mem.hypercallBuffer(len);
  }

  /** IOCTL_PRIVCMD_HYPERCALL with a fully initialised argument block, as libxencall builds it. */
  hypercall(op: number, args: Array<bigint | number>): number {
    const blk = this.mem.alloc(48);
    this.mem.storeU(blk, 8, op);
    for (let i = 0; i < 5; i++) this.mem.storeU(blk + 8 + 8 * i, 8, BigInt(args[i] ?? 0));
    return this.privcmd.ioctl(IOCTL.privcmd_hypercall, blk, this.ctx);
  }

  /** A sysctl as xc_sysctl issues it: cmd and interface_version set, then the caller's fields. */
  sysctl(cmd: number, fill: (u: StructRef) => void, version = 0x15, release: Release = LATEST): { ret: number; env: StructRef } {
    const env = this.bounce(xenSysctl, release);
    env.set('cmd', cmd);
    env.set('interface_version', version);
    fill(env);
    return { ret: this.hypercall(35, [env.addr]), env };
  }
  /** A domctl as xc_domctl issues it. */
  domctl(cmd: number, domain: number, fill: (u: StructRef) => void, version = 0x15, release: Release = LATEST): { ret: number; env: StructRef } {
    const env = this.bounce(xenDomctl, release);
    env.set('cmd', cmd);
    env.set('interface_version', version);
    env.set('domain', domain);
    fill(env);
    return { ret: this.hypercall(36, [env.addr]), env };
  }
  /** A string out of guest memory up to the first NUL. */
  cstr(addr: number, max: number): string {
    const b = this.mem.read(addr, max)!;
    const n = b.indexOf(0);
    return new TextDecoder().decode(b.subarray(0, n < 0 ? max : n));
  }
}
