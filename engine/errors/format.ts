/**
 * Number formatting exactly as Valgrind's own printf does it (`m_debuglog.c`): `%'lu` groups
 * digits by three with commas, `%#lx` is lower-case hex with 0x (and plain `0` for zero),
 * `0x%lX` upper-case.
 */

/** `%'lu` / `%'d`: decimal with a comma between each group of three digits ("1,000"). */
export function withCommas(n: number | bigint): string {
  const negative = n < 0;
  const digits = (negative ? -BigInt(n) : BigInt(n)).toString();
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return negative ? '-' + out : out;
}

/** `0x%lx`: the form of addresses in descriptions ("Address 0x4a40068 …"). */
export function hexLower(n: number): string {
  return '0x' + n.toString(16);
}

/** `%#lx`: like `0x%lx` except that zero prints as `0` (C's alternate form). */
export function hexAlt(n: number): string {
  return n === 0 ? '0' : '0x' + n.toString(16);
}

/** `0x%lX`: instruction pointers in stacks ("0x1091A1"). */
export function hexUpper(n: number): string {
  return '0x' + n.toString(16).toUpperCase();
}

/** `0x%x`: XML `<unique>` ids. */
export function hexUnique(n: number): string {
  return '0x' + n.toString(16);
}

/**
 * A leak figure as a delta leak search prints it: "7 (+7)", "0 (-30)"; without a previous
 * value just "7" (the ordinary search shows no change).
 */
export function withDelta(now: number, before: number | undefined): string {
  if (before === undefined) return withCommas(now);
  return `${withCommas(now)} (${now >= before ? '+' : '-'}${withCommas(Math.abs(now - before))})`;
}
