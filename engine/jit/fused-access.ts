/**
 * A tool's shadow access fused with the guest access it shadows. Memcheck's instrumentation puts
 * a shadow helper right before each load and store at the same address (`v = mc_loadv(a, n);
 * x = LD(a)`, `mc_storev(a, n, v); ST(a) = x`); compiled code calls one function for the pair
 * instead, which converts the address once and makes one call from generated code instead of
 * two. The interpreter keeps running the two statements; both mean the same.
 */

/** Which dirty helpers shadow loads and stores (known when a block is compiled). */
export interface FusedNames {
  /** `t = helper(addr, size)` before a load of size bytes at addr: t is the shadow of the load. */
  readonly load: string;
  /** `helper(addr, size, shadow)` before a store of size bytes at addr. */
  readonly store: string;
}

/** The fused pair at run time (compiled code's `A`). */
export interface FusedAccess {
  /** Runs the shadow load helper and the load: returns the loaded value and leaves the helper's result in `v`. */
  load(insnAddr: number, addr: number, size: number): bigint;
  /** The shadow result of the last load. */
  v: bigint;
  /** Runs the shadow store helper with `shadow`, then the store of `value`. */
  store(insnAddr: number, addr: number, size: number, shadow: bigint, value: bigint): void;
}
