/** Cutting an address range at fixed-size chunk boundaries, for the chunked shadow maps (V bits, origins). */

/** Calls fn(chunkNo, offset, length) for each piece of [addr, addr+len) inside one chunk of chunkSize bytes. */
export function forChunkPieces(addr: number, len: number, chunkSize: number, fn: (no: number, o: number, n: number) => void): void {
  let a = addr;
  const end = addr + len;
  while (a < end) {
    const no = Math.floor(a / chunkSize);
    const o = a - no * chunkSize;
    const n = Math.min(end - a, chunkSize - o);
    fn(no, o, n);
    a += n;
  }
}
