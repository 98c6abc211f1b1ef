/**
 * Leak-kind sets as Valgrind parses them for --show-leak-kinds, --errors-for-leak-kinds and a
 * suppression's `match-leak-kinds:` line: comma-separated names from
 * reachable,possible,indirect,definite, or `all`, or `none`; no spaces inside, no mixing of
 * all/none with names, and at least one word.
 */
import type { LeakState } from './error-record';
import { LEAK_STATES } from './error-record';

/** Parse a leak-kind set; undefined when the text is not a valid set. */
export function parseLeakKinds(text: string): Set<LeakState> | undefined {
  // strtok-style splitting: empty words between commas are ignored.
  const words = text.split(',').filter((w) => w.length > 0);
  if (words.length === 0) return undefined;
  let all = false;
  let none = false;
  const set = new Set<LeakState>();
  for (const w of words) {
    if (w === 'all') all = true;
    else if (w === 'none') none = true;
    else if ((LEAK_STATES as readonly string[]).includes(w)) set.add(w as LeakState);
    else return undefined;
  }
  if (all) return none || set.size > 0 ? undefined : new Set(LEAK_STATES);
  if (none) return set.size > 0 ? undefined : new Set();
  return set;
}

