/**
 * The CPU that guests see through CPUID: a baseline x86-64 (SSE2/SSE3/SSSE3, CX16, no AVX, no
 * XSAVE), every advertised feature of which QEMU 5's TCG in Unicorn really executes, so that
 * glibc's IFUNC resolvers and ld.so pick code paths that run.
 */

/** CPUID.1:EDX — fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2. */
export const CPUID1_EDX = 0x078bfbff;
/** CPUID.1:ECX — sse3, ssse3, cx16. */
export const CPUID1_ECX = (1 << 0) | (1 << 9) | (1 << 13);

// Deterministic cache geometry (leaf 4) so glibc sizes its memcpy thresholds sensibly.
const CACHES: Array<{ type: number; level: number; ways: number; sets: number; shared: number }> = [
  { type: 1, level: 1, ways: 8, sets: 64, shared: 1 },
  { type: 2, level: 1, ways: 8, sets: 64, shared: 1 },
  { type: 3, level: 2, ways: 16, sets: 1024, shared: 1 },
  { type: 3, level: 3, ways: 16, sets: 8192, shared: 8 },
];

const VENDOR = Buffer.from('GenuineIntel', 'latin1');
const BRAND = Buffer.from('unigrind virtual x86-64 CPU'.padEnd(48, '\0'), 'latin1');

/** Answers CPUID leaf/subleaf with [eax, ebx, ecx, edx]. */
export function cpuid(leaf: number, subleaf: number): [number, number, number, number] {
  switch (leaf) {
    case 0:
      return [7, VENDOR.readUInt32LE(0), VENDOR.readUInt32LE(8), VENDOR.readUInt32LE(4)];
    case 1:
      // family 6 model 0x1a stepping 5; 1 logical processor, clflush line 8×8 bytes.
      return [0x000106a5, (1 << 16) | (8 << 8), CPUID1_ECX, CPUID1_EDX];
    case 2:
      // One iteration, descriptor 0xff: "read leaf 4".
      return [0x0000ff01, 0, 0, 0];
    case 4: {
      const c = CACHES[subleaf];
      if (!c) return [0, 0, 0, 0];
      const eax = c.type | (c.level << 5) | (1 << 8) | ((c.shared - 1) << 14);
      const ebx = ((c.ways - 1) << 22) | (63);
      return [eax >>> 0, ebx >>> 0, c.sets - 1, 0];
    }
    case 0x80000000:
      return [0x80000008, 0, 0, 0];
    case 0x80000001:
      // ecx: lahf_lm; edx: syscall, nx, lm.
      return [0, 0, 1, (1 << 11) | (1 << 20) | (1 << 29)];
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      return [BRAND.readUInt32LE(o), BRAND.readUInt32LE(o + 4), BRAND.readUInt32LE(o + 8), BRAND.readUInt32LE(o + 12)];
    }
    case 0x80000006:
      return [0, 0, (1024 << 16) | (6 << 12) | 64, 0];
    case 0x80000008:
      return [0x3030, 0, 0, 0];
    default:
      return [0, 0, 0, 0];
  }
}
