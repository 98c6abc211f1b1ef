/**
 * Suppression patterns for C++ functions known only by their demangled names.
 *
 * Valgrind matches `fun:` lines against *mangled* symbols (`_ZN7gadgets6WidgetC1Em`), while its
 * XML `<fn>` shows the demangled form (`gadgets::Widget::Widget(unsigned long)`) — measured with
 * Valgrind 3.19: `fun:operator new(unsigned long)` does not suppress a leak in `_Znwm`. When the
 * XML carries no generated suppression (no `--gen-suppressions=all`), the server rebuilds a
 * pattern from the Itanium ABI's visible structure: every name component appears as
 * `<length><identifier>`, constructors as `C<n>`, destructors as `D<n>`, well-known operators as
 * their two-letter codes, joined by `*` so that template arguments, cv-qualifiers, ABI tags and
 * parameter types may sit in between. The pattern can only be as specific as the demangled name
 * allows; it never matches a symbol whose components differ.
 */

/** Itanium operator codes (cxxabi "operator-name"). */
const OPERATOR_CODES: Record<string, string> = {
  'new': 'nw', 'new[]': 'na', 'delete': 'dl', 'delete[]': 'da',
  '~': 'co', '+': 'pl', '-': 'mi', '*': 'ml', '/': 'dv', '%': 'rm', '&': 'an', '|': 'or', '^': 'eo',
  '=': 'aS', '+=': 'pL', '-=': 'mI', '*=': 'mL', '/=': 'dV', '%=': 'rM', '&=': 'aN', '|=': 'oR',
  '^=': 'eO', '<<': 'ls', '>>': 'rs', '<<=': 'lS', '>>=': 'rS', '==': 'eq', '!=': 'ne', '<': 'lt',
  '>': 'gt', '<=': 'le', '>=': 'ge', '<=>': 'ss', '!': 'nt', '&&': 'aa', '||': 'oo', '++': 'pp',
  '--': 'mm', ',': 'cm', '->*': 'pm', '->': 'pt', '()': 'cl', '[]': 'ix',
};

/**
 * True when Valgrind's `<fn>` text is a demangled C++ name rather than a plain symbol: C symbols
 * have no spaces, parentheses, angle brackets or `::`. Valgrind's placeholders (`(below main)`,
 * `???`) are not names at all and stay as they are.
 */
export function isDemangledCxx(fn: string): boolean {
  if (fn === '???' || /^\([^()]*\)$/.test(fn)) return false;
  return /[\s()<>]|::/.test(fn);
}

/**
 * The `fun:` pattern for a frame's function: the name itself for C symbols, a mangled-name glob
 * for demangled C++ names.
 */
export function funPattern(fn: string): string {
  if (!isDemangledCxx(fn)) return fn;
  const components = splitQualified(stripSignature(fn));
  if (components.length === 0) return fn;
  const parts: string[] = [];
  let prevBase = '';
  for (const comp of components) {
    const base = stripTemplateArgs(comp);
    if (base.startsWith('operator')) {
      const op = base.slice('operator'.length).trim();
      parts.push(OPERATOR_CODES[op] ?? '*');
    } else if (base === '(anonymous namespace)') parts.push('12_GLOBAL__N_1');
    else if (base.startsWith('{')) parts.push('*'); // {lambda(int)#1}: mangled as Ul…E_, not by name
    else if (base === prevBase && parts.length > 0) parts.push('C?');
    else if (base === `~${prevBase}` && parts.length > 0) parts.push('D?');
    else if (base === 'std' && parts.length === 0) parts.push('St');
    else parts.push(`${byteLength(base)}${base}`);
    prevBase = base;
  }
  // A lone component lives in the global namespace: its code follows _Z directly.
  if (parts.length === 1) return `_Z${parts[0]}*`;
  return `_Z*${parts.join('*')}*`;
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Drop the parameter list, trailing qualifiers and a leading return type. */
function stripSignature(fn: string): string {
  let s = fn.replace(/\s*\[(?:clone|abi:)[^\]]*\]/g, '').trim();
  const close = s.lastIndexOf(')');
  if (close >= 0) {
    let depth = 0;
    for (let i = close; i >= 0; i--) {
      const c = s[i];
      if (c === ')') depth++;
      else if (c === '(') {
        depth--;
        if (depth === 0) {
          // The first balanced group from the end is the parameter list, so `operator()` keeps its own.
          s = s.slice(0, i);
          break;
        }
      }
    }
  }
  // A template function's demangled name starts with its return type ("int f<int>(int)").
  const op = s.lastIndexOf('operator');
  const head = op >= 0 ? s.slice(0, op) : s;
  const space = lastTopLevel(head, ' ');
  return space >= 0 ? s.slice(space + 1) : s;
}

/** Split at `::` outside template arguments and parentheses. */
function splitQualified(name: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '<' || c === '(') depth++;
    else if ((c === '>' || c === ')') && depth > 0) depth--;
    else if (depth === 0 && c === ':' && name[i + 1] === ':') {
      out.push(name.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  out.push(name.slice(start));
  return out.map((c) => c.trim()).filter((c) => c !== '');
}

function stripTemplateArgs(comp: string): string {
  if (comp.startsWith('operator')) return comp;
  const lt = comp.indexOf('<');
  return lt > 0 ? comp.slice(0, lt) : comp;
}

function lastTopLevel(s: string, ch: string): number {
  let depth = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s[i];
    if (c === '>' || c === ')') depth++;
    else if ((c === '<' || c === '(') && depth > 0) depth--;
    else if (depth === 0 && c === ch) return i;
  }
  return -1;
}
