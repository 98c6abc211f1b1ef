/**
 * Stack handling shared by dedupe, suppressions and the writers, following Valgrind's rules:
 * a stack is a list of instruction addresses, each expanded into one frame per inlined call
 * (inlined frames first, then the physical frame); printing stops at `main` (or the innermost
 * below-main function) unless --show-below-main=yes; and below-main function names are shown as
 * "(below main)".
 */
import type { ErrorFrame } from './error-record';

/** Names Valgrind treats as below main on Linux (its `get_fnname_kind`). */
export function isBelowMainName(name: string): boolean {
  return name === '__libc_start_main'
    || name === '__libc_start_call_main'
    || name.startsWith('__libc_start_main.')
    || name === 'generic_start_main'
    || name.startsWith('generic_start_main.')
    || name === '_start'
    || name === '(below main)';
}

/**
 * Split frames into per-address groups: each group is a run of inlined frames ended by the
 * physical frame that owns their address. A trailing run of inlined frames without a physical
 * frame (a truncated stack) forms a last group.
 */
export function ipGroups(frames: readonly ErrorFrame[]): ErrorFrame[][] {
  const groups: ErrorFrame[][] = [];
  let cur: ErrorFrame[] = [];
  for (const f of frames) {
    cur.push(f);
    if (!f.inlined) { groups.push(cur); cur = []; }
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

/** The instruction address of each group: what Valgrind's ExeContext stores and compares. */
export function stackIps(frames: readonly ErrorFrame[]): number[] {
  return ipGroups(frames).map((g) => g[g.length - 1].ip);
}

/** The raw (non-demangled) name of a group's physical frame, which decides main/below-main. */
function rawName(group: ErrorFrame[]): string | undefined {
  const f = group[group.length - 1];
  return f.mangled ?? f.fn;
}

/**
 * The frames Valgrind prints: cut after `main`, or after the innermost below-main function when
 * there is no `main`, unless showBelowMain. Mirrors `VG_(apply_StackTrace)`.
 */
export function printedFrames(frames: readonly ErrorFrame[], showBelowMain = false): ErrorFrame[] {
  const groups = ipGroups(frames);
  let n = groups.length;
  if (!showBelowMain) {
    for (let i = groups.length - 1; i >= 0; i--) {
      const name = rawName(groups[i]);
      if (name === undefined) continue;
      const isMain = name === 'main';
      if (isMain || isBelowMainName(name)) n = i + 1;
      if (isMain) break;
    }
  }
  const out: ErrorFrame[] = [];
  for (let i = 0; i < n; i++) out.push(...groups[i]);
  return showBelowMain ? out : out.map(renameBelowMain);
}

/** A frame with its below-main function name replaced by "(below main)", as Valgrind shows it
 * when --show-below-main=no. Other frames are returned unchanged. */
export function renameBelowMain(f: ErrorFrame): ErrorFrame {
  const raw = f.mangled ?? f.fn;
  if (raw !== undefined && raw !== '(below main)' && isBelowMainName(raw)) {
    const { mangled: _m, ...rest } = f;
    return { ...rest, fn: '(below main)' };
  }
  return f;
}
