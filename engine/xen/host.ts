/**
 * `--xen=host`: pass hypercalls to the real /dev/xen/privcmd of a dom0.
 *
 * Guest memory is native memory at host addresses that differ from guest addresses, so every
 * guest pointer the hypervisor will follow must be rewritten to its host address for the call:
 * the hypercall's pointer arguments, and the guest handles inside its structs (recursively:
 * multicall entries, dm_op buffer lists, per-element handles). The set of pointers comes from
 * the same declarations as the memcheck checks (`pointerLocations`). Handles stored in guest
 * memory are rewritten in place and restored after the call, so the guest never sees host
 * addresses; Xen's own copy-back of a struct is thereby undone too.
 *
 * Xen also requires those buffers to stay resident: in host mode the engine should back
 * /dev/xen/hypercall mmaps with the real device (or locked memory), as libxencall does.
 */

import { EventChannelHost, ForeignFrame, GrantHost, GuestMemory, Hypervisor } from './interfaces';
import { EFAULT } from './errno';
import { pointerLocations, PointerLoc, rulesPointerLocations } from './hypercalls/walker';
import { ioctlDecl, XenDevice } from './ioctls/table';
import { readUint, writeUint } from './layouts/view';
import { HC } from './hypercalls/registry';

/** Guest → host address translation (the engine's memory map). */
export interface AddressTranslator {
  /** Host address of guest range [addr, addr+len), or undefined if it is not all mapped. */
  toHost(addr: number, len: number): bigint | undefined;
}

/** The real device: issues IOCTL_PRIVCMD_HYPERCALL with host-address arguments. */
export interface HostPrivcmd {
  hypercall(op: number, args: readonly bigint[]): bigint;
  mapForeign(domid: number, gfn: bigint): ForeignFrame | number;
  mapResource(domid: number, type: number, id: number, frame: bigint): ForeignFrame | number;
  resourceFrames(domid: number, type: number, id: number): number;
  readonly evtchn: EventChannelHost;
  readonly grants: GrantHost;
}

/** What a translation changed, to be undone after the call. */
export interface Translation {
  readonly args: bigint[];
  readonly restore: () => void;
}

/**
 * Rewrite the guest pointers of hypercall `op` to host addresses. Nested pointers are collected
 * (with guest values) before any rewrite; then memory words are patched innermost-first.
 * Returns undefined when a pointer does not translate (the call must fail with -EFAULT).
 */
export function translateHypercall(op: number, args: readonly bigint[], mem: GuestMemory, xlate: AddressTranslator): Translation | undefined {
  const out = args.slice();
  const locs: PointerLoc[] = [];
  const gather = (o: number, a: readonly bigint[], argAddr?: (i: number) => number | undefined) => {
    if (o === HC.multicall) {
      // Entries are 64 bytes: op, result, args[6]; each entry's arguments live in memory.
      const list = Number(BigInt.asUintN(64, a[0] ?? 0n));
      const n = Number(BigInt.asUintN(32, a[1] ?? 0n));
      for (let i = 0; i < n; i++) {
        const at = list + 64 * i;
        const eop = Number(readUint(mem, at, 8));
        const eargs = [0, 1, 2, 3, 4, 5].map((k) => readUint(mem, at + 16 + 8 * k, 8));
        gather(eop, eargs, (k) => at + 16 + 8 * k);
      }
      const at0 = argAddr?.(0);
      locs.push(at0 === undefined ? { kind: 'arg', index: 0, value: BigInt.asUintN(64, a[0] ?? 0n) } : { kind: 'mem', addr: at0, value: BigInt.asUintN(64, a[0] ?? 0n) });
      return;
    }
    locs.push(...pointerLocations(o, a, mem, argAddr));
  };
  gather(op, args);
  const seen = new Set<string>();
  const unique = locs.filter((l) => { const k = l.kind === 'arg' ? `a${l.index}` : `m${l.addr}`; if (seen.has(k)) return false; seen.add(k); return true; });
  const saved: Array<{ addr: number; value: bigint }> = [];
  const restore = () => { for (const s of saved.reverse()) writeUint(mem, s.addr, 8, s.value); };
  for (const l of unique) {
    if (l.value === 0n) continue; // NULL handles stay NULL (size queries)
    const host = xlate.toHost(Number(l.value), 1);
    if (host === undefined) { restore(); return undefined; }
    if (l.kind === 'arg') out[l.index] = host;
    else {
      saved.push({ addr: l.addr, value: readUint(mem, l.addr, 8) });
      writeUint(mem, l.addr, 8, host);
    }
  }
  return { args: out, restore };
}

/** The Hypervisor of `--xen=host`. */
export class HostHypervisor implements Hypervisor {
  constructor(private readonly dev: HostPrivcmd, private readonly xlate: AddressTranslator) {}
  get evtchn(): EventChannelHost { return this.dev.evtchn; }
  get grants(): GrantHost { return this.dev.grants; }

  hypercall(op: number, args: readonly bigint[], mem: GuestMemory): bigint {
    let t: Translation | undefined;
    try {
      t = translateHypercall(op, args, mem, this.xlate);
    } catch {
      return BigInt(-EFAULT);
    }
    if (!t) return BigInt(-EFAULT);
    try {
      return this.dev.hypercall(op, t.args);
    } finally {
      t.restore();
    }
  }
  mapForeign(domid: number, gfn: bigint): ForeignFrame | number { return this.dev.mapForeign(domid, gfn); }
  mapResource(domid: number, type: number, id: number, frame: bigint): ForeignFrame | number { return this.dev.mapResource(domid, type, id, frame); }
  resourceFrames(domid: number, type: number, id: number): number { return this.dev.resourceFrames(domid, type, id); }
}

/** Whether a host can run `--xen=host` (it needs the privcmd device). */
export function hostHasXen(exists: (path: string) => boolean): boolean {
  return exists('/dev/xen/privcmd') || exists('/proc/xen/privcmd');
}

/**
 * The guest pointers inside a Xen device ioctl's argument (privcmd MMAP/MMAPBATCH arrays,
 * DM_OP buffer lists and the buffers they name, gntdev copy segments), for passing the ioctl
 * to the host's device. The argument pointer itself is the engine's to translate.
 */
export function ioctlPointerLocations(device: XenDevice, request: number, argAddr: number, mem: GuestMemory): PointerLoc[] {
  const d = ioctlDecl(device, request);
  return d ? rulesPointerLocations(d.rules, argAddr, d.arg, mem) : [];
}
