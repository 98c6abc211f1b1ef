/**
 * memcheck's replacements of the string and memory functions (str*, mem*) (Valgrind's vg_replace_strmem.c): run in JS on
 * guest memory, byte by byte as far as checking goes, so an overrun is reported at the byte
 * where it happens and glibc's vectorised code never reads past a terminator under our eyes.
 * memcpy-like functions also check for overlapping arguments, and copy definedness with the bytes.
 */
import type { Replacement, RedirectCall } from '../process/redirect';
import type { GuestMemory, Region } from '../memory/guest-memory';

/** What the replacements need from memcheck. */
export interface StrMemChecker {
  /** Checks a read of [addr, addr+len) made by the replacement; reports an invalid read. False: unmapped (the call faults). */
  read(call: RedirectCall, addr: number, len: number): boolean;
  /** Same for a write. */
  write(call: RedirectCall, addr: number, len: number): boolean;
  /** Reports overlapping source and destination. */
  overlap(call: RedirectCall, dst: number, src: number, len: number | undefined): void;
  /** Copies addressability-independent definedness of len bytes (the data moves with its V bits). */
  copyDefinedness(src: number, dst: number, len: number): void;
  /** Marks bytes written with defined values. */
  defined(addr: number, len: number): void;
  /**
   * The replacement's loop branches on each byte of [addr, addr+len) (a string scan): one
   * "Conditional jump or move depends on uninitialised value(s)" per undefined byte.
   */
  branchesOn(call: RedirectCall, addr: number, len: number): void;
}

const MAX_STRING = 1 << 30;

/** Bytes of guest memory (a view); undefined when unmapped. */
function bytes(call: RedirectCall, addr: number, len: number): Uint8Array | undefined {
  return len === 0 ? new Uint8Array(0) : call.proc.mem.view(addr, len) ?? safeRead(call, addr, len);
}

function safeRead(call: RedirectCall, addr: number, len: number): Uint8Array | undefined {
  try {
    return call.proc.mem.read(addr, len);
  } catch {
    return undefined;
  }
}

/** Length of the NUL-terminated string at addr, scanning at most max bytes; -1 when it runs into unmapped memory. */
function scanLength(call: RedirectCall, addr: number, max = MAX_STRING): number {
  const mem = call.proc.mem;
  let n = 0;
  while (n < max) {
    const r = mem.find(addr + n);
    if (!r) return -1;
    const chunkStart = r.chunkOffset + (addr + n - r.start);
    const span = Math.min(r.end - (addr + n), max - n);
    const nul = r.chunk.bytes.subarray(chunkStart, chunkStart + span).indexOf(0);
    if (nul >= 0) return n + nul;
    n += span;
  }
  return max;
}

/**
 * Reads guest bytes one at a time through the region that holds them, looking a region up only
 * when a read leaves the last one (a one-byte view per byte allocated on every step of strcmp).
 */
class ByteReader {
  private r: Region | undefined;

  constructor(private readonly mem: GuestMemory) {}

  /** The byte at addr, or -1 when it is not mapped. */
  at(addr: number): number {
    let r = this.r;
    if (r === undefined || addr < r.start || addr >= r.end) {
      r = this.mem.find(addr);
      if (r === undefined) return -1;
      this.r = r;
    }
    return r.chunk.bytes[r.chunkOffset + (addr - r.start)];
  }
}

function overlaps(dst: number, dlen: number, src: number, slen: number): boolean {
  if (dlen === 0 || slen === 0) return false;
  return dst < src + slen && src < dst + dlen;
}

/**
 * Valgrind's strncpy/strncat loop, byte by byte and forward (`while (m < n && *src) *dst++ =
 * *src++`), for when the ranges overlap: a byte written early may be read again as source, so
 * the result (and even the length copied) differs from a memmove. Returns the number of bytes
 * copied (the terminator not included), or -1 when it runs into unmapped memory.
 */
function copyStringForward(call: RedirectCall, c: StrMemChecker, dst: number, src: number, max: number): number {
  const mem = call.proc.mem;
  let m = 0;
  while (m < max) {
    const b = mem.view(src + m, 1);
    if (!b) return -1;
    if (b[0] === 0) break;
    if (!mem.isMapped(dst + m, 1)) return -1;
    mem.write(dst + m, Uint8Array.of(b[0]));
    c.copyDefinedness(src + m, dst + m, 1);
    m++;
  }
  return m;
}

/**
 * The functions memcheck also replaces in the dynamic loader (Valgrind 3.19's list for
 * ld-linux-x86-64.so.2); the loader's other string functions run as they are, their
 * word-at-a-time reads included.
 */
const IN_LOADER: ReadonlySet<string> = new Set(['strlen', 'strchr', 'strcmp', 'stpcpy', 'mempcpy']);

/** The replacement table, given the checker memcheck supplies. */
export function strMemReplacements(c: StrMemChecker): Replacement[] {
  return stringReplacements(c).map((r) => (IN_LOADER.has(r.name) ? { ...r, inLoader: true } : r));
}

function stringReplacements(c: StrMemChecker): Replacement[] {
  const fault = (call: RedirectCall, addr: number): number => {
    call.proc.guestFault(addr);
    return 0;
  };
  // Reads a string with checks: the checked length includes the terminator, as the replacement's loop reads it.
  const str = (call: RedirectCall, addr: number, max = MAX_STRING): number => {
    const n = scanLength(call, addr, max);
    if (n < 0) {
      c.read(call, addr, MAX_STRING);
      return -1;
    }
    c.read(call, addr, Math.min(n + 1, max));
    c.branchesOn(call, addr, Math.min(n + 1, max));
    return n;
  };
  const copy = (call: RedirectCall, dst: number, src: number, n: number): boolean => {
    const data = bytes(call, src, n);
    if (!data || !c.write(call, dst, n)) return false;
    const saved = data.slice();
    call.proc.mem.write(dst, saved);
    c.copyDefinedness(src, dst, n);
    return true;
  };
  const memcpyLike = (name: string, symbols: string[], ret: 'dst' | 'end', check: boolean): Replacement => ({
    name, symbols,
    run(call) {
      const dst = call.num(0);
      const src = call.num(1);
      const n = call.num(2);
      if (n === 0) return ret === 'dst' ? dst : dst;
      if (!c.read(call, src, n)) return fault(call, src);
      if (check && overlaps(dst, n, src, n)) c.overlap(call, dst, src, n);
      if (!copy(call, dst, src, n)) return fault(call, dst);
      return ret === 'dst' ? dst : dst + n;
    },
  });
  return [
    {
      name: 'strlen', symbols: ['strlen', '__GI_strlen'],
      run: (call) => {
        const n = str(call, call.num(0));
        return n < 0 ? fault(call, call.num(0)) : n;
      },
    },
    {
      name: 'strnlen', symbols: ['strnlen', '__strnlen'],
      run: (call) => {
        const n = str(call, call.num(0), call.num(1));
        return n < 0 ? fault(call, call.num(0)) : n;
      },
    },
    memcpyLike('memcpy', ['memcpy', '__memcpy'], 'dst', true),
    memcpyLike('memmove', ['memmove', '__memmove'], 'dst', false),
    memcpyLike('mempcpy', ['mempcpy', '__mempcpy'], 'end', true),
    {
      name: 'memset', symbols: ['memset', '__memset'],
      run: (call) => {
        const dst = call.num(0);
        const n = call.num(2);
        if (n === 0) return dst;
        if (!c.write(call, dst, n)) return fault(call, dst);
        call.proc.mem.write(dst, new Uint8Array(n).fill(Number(call.arg(1) & 0xffn)));
        c.defined(dst, n);
        return dst;
      },
    },
    ...(['strcpy', 'stpcpy'] as const).map((name): Replacement => ({
      name, symbols: [name, `__${name}`],
      run: (call) => {
        const dst = call.num(0);
        const src = call.num(1);
        const n = str(call, src);
        if (n < 0) return fault(call, src);
        if (overlaps(dst, n + 1, src, n + 1)) c.overlap(call, dst, src, undefined);
        if (!copy(call, dst, src, n + 1)) return fault(call, dst);
        return name === 'strcpy' ? dst : dst + n;
      },
    })),
    ...(['strncpy', 'stpncpy'] as const).map((name): Replacement => ({
      name, symbols: [name, `__${name}`],
      run: (call) => {
        const dst = call.num(0);
        const src = call.num(1);
        const max = call.num(2);
        let n = str(call, src, max);
        if (n < 0) return fault(call, src);
        if (overlaps(dst, max, src, Math.min(n + 1, max))) {
          // Copied as Valgrind's loop does; the overlap is judged on what the loop read.
          n = copyStringForward(call, c, dst, src, max);
          if (n < 0) return fault(call, src);
          c.overlap(call, dst, src, max);
          if (!c.write(call, dst, Math.min(n, max))) return fault(call, dst);
        } else if (!copy(call, dst, src, Math.min(n, max))) return fault(call, dst);
        if (max > n) {
          if (!c.write(call, dst + n, max - n)) return fault(call, dst + n);
          call.proc.mem.write(dst + n, new Uint8Array(max - n));
          c.defined(dst + n, max - n);
        }
        return name === 'strncpy' ? dst : dst + Math.min(n, max);
      },
    })),
    ...(['strcat', 'strncat'] as const).map((name): Replacement => ({
      name, symbols: [name, `__${name}`],
      run: (call) => {
        const dst = call.num(0);
        const src = call.num(1);
        const dl = str(call, dst);
        let sl = name === 'strncat' ? str(call, src, call.num(2)) : str(call, src);
        if (dl < 0) return fault(call, dst);
        if (sl < 0) return fault(call, src);
        const overlap = overlaps(dst, dl + sl + 1, src, sl + 1);
        if (overlap && name === 'strncat') {
          // Valgrind's bounded loop, forward; strcat's unbounded one only ends when the source
          // lies past the destination's end, where a forward copy and a memmove agree.
          sl = copyStringForward(call, c, dst + dl, src, call.num(2));
          if (sl < 0) return fault(call, src);
          if (!c.write(call, dst + dl, sl)) return fault(call, dst + dl);
        }
        if (overlap) c.overlap(call, dst, src, name === 'strncat' ? call.num(2) : undefined);
        if (!(overlap && name === 'strncat') && !copy(call, dst + dl, src, sl)) return fault(call, dst + dl);
        if (!c.write(call, dst + dl + sl, 1)) return fault(call, dst + dl + sl);
        call.proc.mem.write(dst + dl + sl, new Uint8Array(1));
        c.defined(dst + dl + sl, 1);
        return dst;
      },
    })),
    ...(['strcmp', 'strncmp', 'strcasecmp', 'strncasecmp'] as const).map((name): Replacement => ({
      // The locale variants (strcasecmp_l, …) compare the same way; their extra argument is the locale.
      name, symbols: name.includes('case') ? [name, `__${name}`, `${name}_l`, `__${name}_l`] : [name, `__${name}`],
      run: (call) => {
        const a = call.num(0);
        const b = call.num(1);
        const max = name.includes('n') && name !== 'strcasecmp' ? call.num(2) : MAX_STRING;
        const fold = name.includes('case');
        const ra = new ByteReader(call.proc.mem);
        const rb = new ByteReader(call.proc.mem);
        // Compare byte by byte, checking only the bytes a naive loop reads.
        let i = 0;
        for (; i < max; i++) {
          let x = ra.at(a + i);
          let y = rb.at(b + i);
          if (x < 0) return fault(call, a + i);
          if (y < 0) return fault(call, b + i);
          if (fold) {
            if (x >= 65 && x <= 90) x += 32;
            if (y >= 65 && y <= 90) y += 32;
          }
          if (x !== y || x === 0) {
            c.read(call, a, i + 1);
            c.read(call, b, i + 1);
            c.branchesOn(call, a, i + 1);
            c.branchesOn(call, b, i + 1);
            return x - y;
          }
        }
        if (max > 0) {
          c.read(call, a, max);
          c.read(call, b, max);
          c.branchesOn(call, a, max);
          c.branchesOn(call, b, max);
        }
        return 0;
      },
    })),
    {
      name: 'memcmp', symbols: ['memcmp', '__memcmp', 'bcmp', '__bcmp'],
      run: (call) => {
        const a = call.num(0);
        const b = call.num(1);
        const n = call.num(2);
        if (n === 0) return 0;
        // Like Valgrind's loop, only the bytes up to the first difference are read (and checked).
        const xs = bytes(call, a, n);
        const ys = bytes(call, b, n);
        if (xs && ys) {
          let k = 0;
          while (k < n && xs[k] === ys[k]) k++;
          c.read(call, a, k < n ? k + 1 : n);
          c.read(call, b, k < n ? k + 1 : n);
          return k < n ? xs[k] - ys[k] : 0;
        }
        // Part of a range is unmapped: byte by byte to the first difference or the fault.
        const mem = call.proc.mem;
        let i = 0;
        let res = 0;
        for (; i < n; i++) {
          const x = mem.view(a + i, 1);
          const y = mem.view(b + i, 1);
          if (!x || !y) {
            c.read(call, a, i + 1);
            c.read(call, b, i + 1);
            return fault(call, !x ? a + i : b + i);
          }
          if (x[0] !== y[0]) {
            res = x[0] - y[0];
            i++;
            break;
          }
        }
        c.read(call, a, i);
        c.read(call, b, i);
        return res;
      },
    },
    ...(['strchr', 'index', 'strchrnul', 'strrchr', 'rindex'] as const).map((name): Replacement => ({
      name: name === 'index' ? 'strchr' : name === 'rindex' ? 'strrchr' : name, symbols: [name, `__${name}`],
      run: (call) => {
        const s = call.num(0);
        const ch = Number(call.arg(1) & 0xffn);
        const n = scanLength(call, s);
        if (n < 0) return fault(call, s);
        const data = bytes(call, s, n + 1)!;
        const pos = name === 'strrchr' || name === 'rindex' ? data.lastIndexOf(ch) : data.indexOf(ch);
        c.read(call, s, name === 'strrchr' || name === 'rindex' || pos < 0 ? n + 1 : pos + 1);
        if (pos >= 0) return s + pos;
        return name === 'strchrnul' ? s + n : 0;
      },
    })),
    ...(['memchr', 'rawmemchr', 'memrchr'] as const).map((name): Replacement => ({
      name, symbols: [name, `__${name}`],
      run: (call) => {
        const s = call.num(0);
        const ch = Number(call.arg(1) & 0xffn);
        const mem = call.proc.mem;
        if (name === 'rawmemchr') {
          const r = new ByteReader(mem);
          for (let i = 0; ; i++) {
            const v = r.at(s + i);
            if (v < 0) return fault(call, s + i);
            if (v === ch) {
              c.read(call, s, i + 1);
              return s + i;
            }
          }
        }
        const n = call.num(2);
        if (n === 0) return 0;
        const data = bytes(call, s, n);
        if (!data) return fault(call, s);
        const pos = name === 'memchr' ? data.indexOf(ch) : data.lastIndexOf(ch);
        c.read(call, name === 'memchr' ? s : s + (pos < 0 ? 0 : pos), name === 'memchr' ? (pos < 0 ? n : pos + 1) : (pos < 0 ? n : n - pos));
        return pos < 0 ? 0 : s + pos;
      },
    })),
    {
      name: 'strstr', symbols: ['strstr', '__strstr'],
      run: (call) => {
        const h = call.num(0);
        const nd = call.num(1);
        const hl = str(call, h);
        const nl = str(call, nd);
        if (hl < 0) return fault(call, h);
        if (nl < 0) return fault(call, nd);
        const i = Buffer.from(bytes(call, h, hl)!).indexOf(Buffer.from(bytes(call, nd, nl)!));
        return i < 0 ? 0 : h + i;
      },
    },
    ...(['strspn', 'strcspn'] as const).map((name): Replacement => ({
      name, symbols: [name, `__${name}`],
      run: (call) => {
        const s = call.num(0);
        const set = call.num(1);
        const sl = str(call, s);
        const al = str(call, set);
        if (sl < 0) return fault(call, s);
        if (al < 0) return fault(call, set);
        const accept = new Set(bytes(call, set, al)!);
        const data = bytes(call, s, sl)!;
        let i = 0;
        while (i < sl && accept.has(data[i]) === (name === 'strspn')) i++;
        return i;
      },
    })),
    ...wideReplacements(c, fault),
  ];
}

/** Length in 4-byte units of the NUL-terminated wide string at addr (at most max); -1 on unmapped memory. */
function wideLength(call: RedirectCall, addr: number, max = MAX_STRING): number {
  const mem = call.proc.mem;
  for (let i = 0; i < max; i++) {
    const v = mem.view(addr + 4 * i, 4);
    if (!v) return -1;
    if ((v[0] | v[1] | v[2] | v[3]) === 0) return i;
  }
  return max;
}

// glibc's SSE2 wide-string code reads aligned 16-byte chunks past the terminator, like its
// narrow siblings: these are replaced for the same reason (Valgrind does so too).
function wideReplacements(c: StrMemChecker, fault: (call: RedirectCall, addr: number) => number): Replacement[] {
  const wstr = (call: RedirectCall, addr: number, max = MAX_STRING): number => {
    const n = wideLength(call, addr, max);
    if (n >= 0) c.read(call, addr, 4 * Math.min(n + 1, max));
    return n;
  };
  const unit = (call: RedirectCall, addr: number): number => new DataView(call.proc.mem.read(addr, 4).buffer).getInt32(0, true);
  return [
    {
      name: 'wcslen', symbols: ['wcslen', '__wcslen'],
      run: (call) => {
        const n = wstr(call, call.num(0));
        return n < 0 ? fault(call, call.num(0)) : n;
      },
    },
    {
      name: 'wcsnlen', symbols: ['wcsnlen', '__wcsnlen'],
      run: (call) => {
        const n = wstr(call, call.num(0), call.num(1));
        return n < 0 ? fault(call, call.num(0)) : n;
      },
    },
    ...(['wcscmp', 'wcsncmp'] as const).map((name): Replacement => ({
      name, symbols: [name, `__${name}`],
      run: (call) => {
        const a = call.num(0);
        const b = call.num(1);
        const max = name === 'wcsncmp' ? call.num(2) : MAX_STRING;
        for (let i = 0; i < max; i++) {
          if (!call.proc.mem.isMapped(a + 4 * i, 4)) return fault(call, a + 4 * i);
          if (!call.proc.mem.isMapped(b + 4 * i, 4)) return fault(call, b + 4 * i);
          const x = unit(call, a + 4 * i);
          const y = unit(call, b + 4 * i);
          if (x !== y || x === 0) {
            c.read(call, a, 4 * (i + 1));
            c.read(call, b, 4 * (i + 1));
            return x < y ? -1 : x > y ? 1 : 0;
          }
        }
        return 0;
      },
    })),
    {
      name: 'wcscpy', symbols: ['wcscpy', '__wcscpy'],
      run: (call) => {
        const dst = call.num(0);
        const src = call.num(1);
        const n = wstr(call, src);
        if (n < 0) return fault(call, src);
        const data = call.proc.mem.read(src, 4 * (n + 1));
        if (!c.write(call, dst, 4 * (n + 1))) return fault(call, dst);
        call.proc.mem.write(dst, data);
        c.copyDefinedness(src, dst, 4 * (n + 1));
        return dst;
      },
    },
    ...(['wcschr', 'wcsrchr'] as const).map((name): Replacement => ({
      name, symbols: [name, `__${name}`],
      run: (call) => {
        const s = call.num(0);
        const ch = Number(BigInt.asIntN(32, call.arg(1)));
        const n = wstr(call, s);
        if (n < 0) return fault(call, s);
        let found = -1;
        for (let i = 0; i <= n; i++) {
          if (unit(call, s + 4 * i) === ch) {
            found = i;
            if (name === 'wcschr') break;
          }
        }
        return found < 0 ? 0 : s + 4 * found;
      },
    })),
    {
      name: 'wmemchr', symbols: ['wmemchr', '__wmemchr'],
      run: (call) => {
        const s = call.num(0);
        const ch = Number(BigInt.asIntN(32, call.arg(1)));
        const n = call.num(2);
        for (let i = 0; i < n; i++) {
          if (!call.proc.mem.isMapped(s + 4 * i, 4)) return fault(call, s + 4 * i);
          if (unit(call, s + 4 * i) === ch) {
            c.read(call, s, 4 * (i + 1));
            return s + 4 * i;
          }
        }
        if (n > 0) c.read(call, s, 4 * n);
        return 0;
      },
    },
    {
      name: 'wmemcmp', symbols: ['wmemcmp', '__wmemcmp'],
      run: (call) => {
        const a = call.num(0);
        const b = call.num(1);
        const n = call.num(2);
        if (n === 0) return 0;
        if (!c.read(call, a, 4 * n)) return fault(call, a);
        if (!c.read(call, b, 4 * n)) return fault(call, b);
        for (let i = 0; i < n; i++) {
          const x = unit(call, a + 4 * i);
          const y = unit(call, b + 4 * i);
          if (x !== y) return x < y ? -1 : 1;
        }
        return 0;
      },
    },
  ];
}
