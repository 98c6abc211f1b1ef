/** printf formatting of a guest format string and va_list (amd64 SysV layout), for VALGRIND_PRINTF. */
import type { GuestMemory } from '../memory/guest-memory';

/** Reads successive arguments from a va_list: gp_offset, fp_offset, overflow_arg_area, reg_save_area. */
class VaList {
  private gp: number;
  private fp: number;
  private overflow: number;
  private readonly save: number;

  constructor(private readonly mem: GuestMemory, addr: number) {
    const b = mem.read(addr, 24);
    const dv = new DataView(b.buffer);
    this.gp = dv.getUint32(0, true);
    this.fp = dv.getUint32(4, true);
    this.overflow = Number(dv.getBigUint64(8, true));
    this.save = Number(dv.getBigUint64(16, true));
  }

  int(): bigint {
    if (this.gp < 48) {
      const v = this.mem.readU64(this.save + this.gp);
      this.gp += 8;
      return v;
    }
    const v = this.mem.readU64(this.overflow);
    this.overflow += 8;
    return v;
  }

  double(): number {
    let b: Uint8Array;
    if (this.fp < 176) {
      b = this.mem.read(this.save + this.fp, 8);
      this.fp += 16;
    } else {
      b = this.mem.read(this.overflow, 8);
      this.overflow += 8;
    }
    return new DataView(b.buffer).getFloat64(0, true);
  }
}

/** Formats like printf(3) for the common conversions (d i u x X o c s p f e g %, with l/ll/z/h lengths, width, precision, flags). */
export function formatVaList(mem: GuestMemory, fmtAddr: number, vaAddr: number): string {
  const fmt = mem.readCString(fmtAddr);
  const va = new VaList(mem, vaAddr);
  return fmt.replace(/%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z|j|t|L)?([diouxXcspfFeEgG%])/g,
    (_m, flags: string, width: string | undefined, prec: string | undefined, len: string | undefined, conv: string) => {
      if (conv === '%') return '%';
      const w = width === '*' ? Number(BigInt.asIntN(32, va.int())) : width ? Number(width) : 0;
      const p = prec === '*' ? Number(BigInt.asIntN(32, va.int())) : prec !== undefined ? Number(prec) : undefined;
      let s: string;
      switch (conv) {
        case 'd': case 'i': {
          const raw = va.int();
          const v = len === 'l' || len === 'll' || len === 'z' || len === 'j' || len === 't' ? BigInt.asIntN(64, raw) : BigInt.asIntN(len === 'h' ? 16 : len === 'hh' ? 8 : 32, raw);
          s = (v < 0n ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '') + (v < 0n ? -v : v).toString();
          break;
        }
        case 'u': case 'x': case 'X': case 'o': {
          const raw = va.int();
          const v = len === 'l' || len === 'll' || len === 'z' || len === 'j' || len === 't' ? raw : BigInt.asUintN(len === 'h' ? 16 : len === 'hh' ? 8 : 32, raw);
          s = v.toString(conv === 'u' ? 10 : conv === 'o' ? 8 : 16);
          if (conv === 'X') s = s.toUpperCase();
          if (flags.includes('#') && v !== 0n && conv !== 'u') s = (conv === 'o' ? '0' : conv === 'x' ? '0x' : '0X') + s;
          break;
        }
        case 'c':
          s = String.fromCharCode(Number(va.int() & 0xffn));
          break;
        case 's': {
          const a = Number(va.int());
          s = a === 0 ? '(null)' : mem.readCString(a, p ?? 1 << 16);
          if (p !== undefined) s = s.slice(0, p);
          break;
        }
        case 'p':
          s = '0x' + va.int().toString(16);
          break;
        default: {
          const d = va.double();
          const digits = p ?? 6;
          s = conv === 'e' || conv === 'E' ? d.toExponential(digits) : conv === 'g' || conv === 'G' ? String(Number(d.toPrecision(digits || 1))) : d.toFixed(digits);
          if (conv === 'E' || conv === 'G') s = s.toUpperCase();
        }
      }
      if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : flags.includes('0') && conv !== 's' && conv !== 'c' ? s.padStart(w, '0') : s.padStart(w);
      return s;
    });
}
