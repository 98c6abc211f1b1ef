/**
 * Editor-style path globs, as the server's settings use them. (Valgrind's own wildcards, in
 * suppression patterns, are the engine's: engine/errors/glob.ts.)
 */

const REGEX_SPECIAL = /[.+^$()|[\]{}\\]/g;

function escapeChar(c: string): string {
  return c.replace(REGEX_SPECIAL, '\\$&');
}

/**
 * Compile a path glob as VS Code settings use them: `**` spans directories, `*` and `?` stay
 * within one path segment, `{a,b}` alternates, `[abc]` is a class. Matched against a path with
 * `/` separators relative to a workspace folder.
 */
export function pathGlob(glob: string): RegExp {
  let re = '';
  let depth = 0; // inside {…}
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        // "**/" may match no directory at all; a trailing "**" matches the rest of the path.
        re += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      re += '(?:';
      depth++;
    } else if (c === '}' && depth > 0) {
      re += ')';
      depth--;
    } else if (c === ',' && depth > 0) re += '|';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += escapeChar(c);
  }
  while (depth-- > 0) re += ')';
  return new RegExp(`^${re}$`);
}
