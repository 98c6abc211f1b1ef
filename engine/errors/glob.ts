/**
 * Valgrind's matcher (`m_seqmatch.c`), used twice: on characters for `fun:`/`obj:` patterns
 * (`*` any run, `?` one character, whole-string match) and on frames for a suppression's frame
 * lines (`...` any run of frames, prefix match). Stars are matched frugally: first try consuming
 * nothing, then one more element.
 */

/** Generic sequence match. `isStar(p)` patterns match any run; `eq(p, i)` compares one pattern
 * element with input element i. With matchAll=false the pattern need only match a prefix. */
export function sequenceMatch<P>(
  pattern: readonly P[],
  inputLength: number,
  isStar: (p: P) => boolean,
  isQuery: (p: P) => boolean,
  eq: (p: P, inputIndex: number) => boolean,
  matchAll: boolean,
): boolean {
  // Memo of failed (pattern index, input index) states keeps the star backtracking linear-ish.
  const failed = new Set<number>();
  const width = inputLength + 1;
  const go = (ip: number, ii: number): boolean => {
    for (;;) {
      const key = ip * width + ii;
      if (failed.has(key)) return false;
      const havePatt = ip < pattern.length;
      const haveInput = ii < inputLength;
      if (havePatt && isStar(pattern[ip])) {
        if (!haveInput) { ip++; continue; }
        if (go(ip + 1, ii)) return true;
        failed.add(key);
        ii++;
        continue;
      }
      if (havePatt && isQuery(pattern[ip])) {
        if (!haveInput) { failed.add(key); return false; }
        ip++; ii++;
        continue;
      }
      if (havePatt && haveInput) {
        if (!eq(pattern[ip], ii)) { failed.add(key); return false; }
        ip++; ii++;
        continue;
      }
      if (havePatt && !haveInput) { failed.add(key); return false; }
      if (!havePatt && haveInput) {
        if (!matchAll) return true;
        failed.add(key);
        return false;
      }
      return true;
    }
  };
  return go(0, 0);
}

/** Whole-string wildcard match of a `fun:`/`obj:`/`src:` pattern (`*`, `?`). */
export function wildcardMatch(pattern: string, input: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === input;
  const p = [...pattern];
  const s = [...input];
  return sequenceMatch(p, s.length, (c) => c === '*', (c) => c === '?', (c, i) => c === s[i], true);
}
