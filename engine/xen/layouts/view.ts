/**
 * Reading and writing laid-out structs in guest memory. The simulator uses this to answer
 * hypercalls through the same layouts the checks use; the walker uses it to read selectors and
 * counts.
 */

import { GuestMemory } from '../interfaces';
import { Layout, must, resolve } from './ctypes';

/** Thrown when the hypervisor touches unmapped guest memory (the caller answers -EFAULT). */
export class GuestFault extends Error {
  constructor(readonly addr: number, readonly len: number) {
    super(`guest fault at 0x${addr.toString(16)} (+${len})`);
  }
}

/** Read a little-endian unsigned integer of 1/2/4/8 bytes. */
export function readUint(mem: GuestMemory, addr: number, size: number): bigint {
  const b = mem.read(addr, size);
  if (!b) throw new GuestFault(addr, size);
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** Write a little-endian unsigned integer (value taken modulo 2^(8*size)). */
export function writeUint(mem: GuestMemory, addr: number, size: number, value: bigint | number): void {
  let v = BigInt.asUintN(size * 8, BigInt(value));
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) { b[i] = Number(v & 0xffn); v >>= 8n; }
  if (!mem.write(addr, b)) throw new GuestFault(addr, size);
}

/** Sign-extend an unsigned value of `size` bytes. */
export function signed(v: bigint, size: number): bigint {
  return BigInt.asIntN(size * 8, v);
}

/** A struct instance at a guest address. */
export class StructRef {
  constructor(readonly mem: GuestMemory, readonly addr: number, readonly layout: Layout) {}

  /** True when the member exists in this release's layout. */
  has(path: string): boolean {
    return resolve(this.layout, path) !== undefined;
  }
  /** Address of a member. */
  addrOf(path: string): number {
    return this.addr + must(this.layout, path).offset;
  }
  /** Unsigned value of a scalar member. */
  get(path: string): bigint {
    const r = must(this.layout, path);
    return readUint(this.mem, this.addr + r.offset, r.size);
  }
  /** Unsigned value as a JS number (for counts, ids, small fields). */
  num(path: string): number {
    return Number(this.get(path));
  }
  /** Write a scalar member; silently ignored when the member is absent in this release. */
  set(path: string, value: bigint | number): void {
    const r = resolve(this.layout, path);
    if (!r) return;
    writeUint(this.mem, this.addr + r.offset, r.size, value);
  }
  /** Raw bytes of a member (arrays, UUIDs). */
  bytes(path: string): Uint8Array {
    const r = must(this.layout, path);
    const b = this.mem.read(this.addr + r.offset, r.size);
    if (!b) throw new GuestFault(this.addr + r.offset, r.size);
    return b;
  }
  /** Write raw bytes into a member, truncated or zero-padded to its size. */
  setBytes(path: string, data: Uint8Array): void {
    const r = resolve(this.layout, path);
    if (!r) return;
    const b = new Uint8Array(r.size);
    b.set(data.subarray(0, r.size));
    if (!this.mem.write(this.addr + r.offset, b)) throw new GuestFault(this.addr + r.offset, r.size);
  }
  /** Zero the whole struct (Xen memsets many OUT structs before filling them). */
  zero(): void {
    if (!this.mem.write(this.addr, new Uint8Array(this.layout.size))) throw new GuestFault(this.addr, this.layout.size);
  }
  /** A nested member struct. */
  sub(path: string): StructRef {
    const r = must(this.layout, path);
    if (!r.nested) throw new Error(`${path} is not a struct in ${this.layout.cName}`);
    return new StructRef(this.mem, this.addr + r.offset, r.nested);
  }
}
