/**
 * The banner lines shared by the text log and the XML `<preamble>`.
 *
 * Deliberate difference from Valgrind: its second and third lines name Valgrind's authors and
 * "Using Valgrind-3.19.0 and LibVEX"; unigrind is neither, so it prints lines of the same shape
 * that say what it is. The tool line and the "Command:" line are Valgrind's exactly.
 */

/** unigrind's version, shown in the identity lines. */
export const UNIGRIND_VERSION = '0.1.0';

/** Tools unigrind provides. */
export type ToolName = 'memcheck' | 'none';

/** Valgrind's per-tool first line. */
const TOOL_LINES: Record<ToolName, string> = {
  memcheck: 'Memcheck, a memory error detector',
  none: 'Nulgrind, the minimal Valgrind tool',
};

/** Make one argument printable as Valgrind does: each byte (of its UTF-8 form) outside 32..127
 * becomes '_'. */
function sanitise(arg: string): string {
  let out = '';
  for (const b of Buffer.from(arg, 'utf8')) out += b < 32 || b > 127 ? '_' : String.fromCharCode(b);
  return out;
}

/** "Command: prog args…" — in text mode spaces, backslashes, '<' and '>' get a backslash. */
export function commandLine(argv: readonly string[], mode: 'text' | 'xml'): string {
  const quote = (a: string) => (mode === 'text' ? sanitise(a).replace(/[ \\<>]/g, (c) => '\\' + c) : sanitise(a));
  return 'Command: ' + argv.map(quote).join(' ');
}

/** The banner lines (without prefixes or XML tags). */
export function preambleLines(tool: ToolName, argv: readonly string[], mode: 'text' | 'xml', version = UNIGRIND_VERSION): string[] {
  return [
    TOOL_LINES[tool],
    `unigrind-${version}, a Valgrind-3.19-compatible ${tool === 'none' ? 'core' : 'memcheck'} on the Unicorn CPU emulator; GNU GPL'd`,
    `Using unigrind-${version} and Unicorn; rerun with -h for copyright info`,
    commandLine(argv, mode),
  ];
}
