/**
 * C++ name demangling through libstdc++'s `__cxa_demangle`.
 *
 * libdw has no demangler, and hand-writing one is out of scope. `__cxa_demangle` is libiberty's
 * cp-demangle with DMGL_PARAMS | DMGL_TYPES and without DMGL_VERBOSE, which is also how
 * Valgrind's demangler is configured, so standard substitutions come out abbreviated the same
 * way: `_ZNSolsEi` → `std::ostream::operator<<(int)`.
 */
import koffi from 'koffi';

type CxaDemangle = (mangled: string, buf: null, len: null, status: Int32Array) => bigint | null;

let demangler: CxaDemangle | null | undefined;
let freeFn: ((p: bigint) => void) | undefined;
const memo = new Map<string, string>();

function load(): CxaDemangle | null {
  if (demangler !== undefined) return demangler;
  try {
    const cxx = koffi.load('libstdc++.so.6');
    const libc = koffi.load('libc.so.6');
    demangler = cxx.func('void *__cxa_demangle(const char *mangled, void *buf, void *len, void *status)') as CxaDemangle;
    freeFn = libc.func('void free(void *p)') as (p: bigint) => void;
  } catch {
    // No libstdc++ on the host: names stay mangled, which is what Valgrind shows with
    // --demangle=no; not worth failing symbolization for.
    demangler = null;
  }
  return demangler;
}

const status = new Int32Array(1);

/**
 * The demangled form of an Itanium C++ ABI name (`_Z…`), or `name` unchanged when it is not
 * mangled or cannot be demangled. Results are memoized.
 */
export function demangle(name: string): string {
  if (!name.startsWith('_Z')) return name;
  const hit = memo.get(name);
  if (hit !== undefined) return hit;
  let out = name;
  const fn = load();
  if (fn && freeFn) {
    status[0] = 0;
    const p = fn(name, null, null, status);
    if (p && status[0] === 0) {
      out = koffi.decode(p, 'char', -1) as string;
    }
    if (p) freeFn(p);
  }
  memo.set(name, out);
  return out;
}
