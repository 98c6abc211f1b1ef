/**
 * Find the line where a function is defined, knowing its name (as Valgrind prints it) and a line
 * inside its body. The server has no C parser; this scans upward for the name followed by `(`
 * on a line whose statement opens a `{` before any `;` — a definition, not a call or prototype.
 * Good enough to place a code lens; when nothing is found the caller falls back to the error's
 * own line.
 */

/** The plain identifier of a demangled name: `gadgets::Widget::grow(unsigned long)` → `grow`. */
export function simpleName(fn: string): string {
  const noParams = fn.replace(/\(.*$/s, '');
  const noTemplates = noParams.replace(/<[^<>]*>/g, '');
  const last = noTemplates.split('::').pop() ?? noTemplates;
  return last.trim();
}

/** 0-based definition line of `fn` at or above `insideLine`, or undefined. */
export function findDefinitionLine(lines: string[], fn: string, insideLine: number): number | undefined {
  const name = simpleName(fn);
  if (!/^~?[A-Za-z_]\w*$/.test(name)) return undefined;
  const re = new RegExp(`(?:^|[^\\w~])${name}\\s*\\(`);
  for (let l = Math.min(insideLine, lines.length - 1); l >= 0; l--) {
    const line = lines[l] as string;
    const m = re.exec(line);
    if (!m) continue;
    // What precedes the name of a definition is its return type and specifiers, never an
    // expression: `if (f(x)) {` or `x = f(y);` is a call.
    const before = line.slice(0, m.index + 1);
    if (/[=(,]|\b(?:return|if|while|for|switch|else|case)\b/.test(before)) continue;
    if (opensBody(lines, l)) return l;
  }
  return undefined;
}

/** True when, from this line on, a `{` comes before a `;` (within a few lines of parameters). */
function opensBody(lines: string[], from: number): boolean {
  for (let l = from; l < Math.min(lines.length, from + 8); l++) {
    const code = (lines[l] as string).replace(/\/\/.*$/, '').replace(/\/\*.*?\*\//g, '');
    for (const c of code) {
      if (c === '{') return true;
      if (c === ';') return false;
    }
  }
  return false;
}
