/** Helpers shared by the simulator's handlers. */

import { GuestMemory } from '../../interfaces';
import { layoutOf, StructType } from '../../layouts/ctypes';
import { GuestFault, StructRef } from '../../layouts/view';
import { SimCall } from '../hypervisor';

/** The struct a hypercall argument points at, laid out for the simulator's release. */
export function argStruct(c: SimCall, arg: number, type: StructType): StructRef {
  return new StructRef(c.mem, Number(BigInt.asUintN(64, c.args[arg] ?? 0n)), layoutOf(type, c.sim.release));
}

/** Copy bytes to a guest address (copy_to_guest); throws GuestFault → -EFAULT. */
export function copyOut(mem: GuestMemory, addr: number, data: Uint8Array): void {
  if (data.length && !mem.write(addr, data)) throw new GuestFault(addr, data.length);
}
/** Copy bytes from a guest address (copy_from_guest). */
export function copyIn(mem: GuestMemory, addr: number, len: number): Uint8Array {
  if (len === 0) return new Uint8Array(0);
  const b = mem.read(addr, len);
  if (!b) throw new GuestFault(addr, len);
  return b;
}

/** A NUL-padded C string of exactly `size` bytes. */
export function cString(s: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(s).subarray(0, size - 1));
  return out;
}

/** Bit count member of a bitmap descriptor (`nr_bits`, or `nr_cpus` before 4.3). */
function nrBits(bm: StructRef): number {
  return bm.has('nr_bits') ? bm.num('nr_bits') : bm.num('nr_cpus');
}

/**
 * cpumask_to_xenctl_bitmap: fill the guest's bitmap with `set`, clearing bits and bytes beyond
 * what the hypervisor has (the guest's size wins).
 */
export function writeBitmap(mem: GuestMemory, bm: StructRef, set: Iterable<number>): void {
  const bits = nrBits(bm);
  const bytes = new Uint8Array(Math.ceil(bits / 8));
  for (const c of set) if (c < bits) bytes[c >> 3] |= 1 << (c & 7);
  copyOut(mem, Number(bm.get('bitmap')), bytes);
}

/** xenctl_bitmap_to_cpumask: the set bits of the guest's bitmap below `limit`. */
export function readBitmap(mem: GuestMemory, bm: StructRef, limit: number): Set<number> {
  const bits = Math.min(nrBits(bm), limit);
  const bytes = copyIn(mem, Number(bm.get('bitmap')), Math.ceil(bits / 8));
  const out = new Set<number>();
  for (let i = 0; i < bits; i++) if (bytes[i >> 3] & (1 << (i & 7))) out.add(i);
  return out;
}

/** Write one element of an array of structs at `base`. */
export function element(mem: GuestMemory, base: number, index: number, type: StructType, release: number): StructRef {
  const l = layoutOf(type, release);
  return new StructRef(mem, base + index * l.size, l);
}

export const neg = (e: number): bigint => BigInt(-e);
