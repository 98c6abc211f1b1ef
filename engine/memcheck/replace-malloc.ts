/**
 * memcheck's replacements of the malloc family and C++'s operator new/delete (Valgrind's
 * vg_replace_malloc.c): each names the allocator family it belongs to, so that a block freed by
 * the wrong family is reported as a mismatch, and argument checks (fishy sizes, calloc overflow)
 * happen as in Valgrind.
 */
import type { Replacement, RedirectCall } from '../process/redirect';

/** Which deallocator a block must be freed with. */
export type AllocFamily = 'malloc' | 'new' | 'new[]';

/** What the replacements need from memcheck's heap. */
export interface MallocChecker {
  /** Allocates size bytes aligned to align; returns the payload address, 0 when out of memory. */
  alloc(call: RedirectCall, size: number, align: number, family: AllocFamily, zeroed: boolean): number;
  /** Frees addr (0 is a no-op), reporting invalid and mismatched frees. */
  free(call: RedirectCall, addr: number, family: AllocFamily): void;
  /** realloc semantics; returns the new payload address or 0. */
  realloc(call: RedirectCall, addr: number, size: number): number;
  /** malloc_usable_size. */
  usableSize(addr: number): number;
  /** Reports a size argument with its top bit set ("fishy (possibly negative) value"); true when reported. */
  fishy(call: RedirectCall, fn: string, arg: string, value: bigint): boolean;
  /** Writes a pointer result for posix_memalign (checked like a guest store). */
  storePointer(call: RedirectCall, addr: number, value: number): boolean;
}

const ENOMEM = 12;
const EINVAL = 22;
const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
const NOTHROW = 'RKSt9nothrow_t';
const ALIGN_T = 'St11align_val_t';

/** The replacement table, given the heap memcheck supplies. */
export function mallocReplacements(h: MallocChecker): Replacement[] {
  const newLike = (name: string, symbols: string[], family: AllocFamily, aligned: boolean): Replacement => ({
    name, symbols,
    run(call) {
      const size = call.arg(0);
      if (h.fishy(call, name, 'size', size)) return 0;
      const align = aligned ? call.num(1) : 16;
      return h.alloc(call, Number(size), Math.max(align, 16), family, false);
    },
  });
  const deleteLike = (name: string, symbols: string[], family: AllocFamily): Replacement => ({
    name, symbols,
    run(call) {
      h.free(call, call.num(0), family);
      return 0;
    },
  });
  return [
    {
      name: 'malloc', symbols: ['malloc', '__libc_malloc'],
      run: (call) => (h.fishy(call, 'malloc', 'size', call.arg(0)) ? 0 : h.alloc(call, call.num(0), 16, 'malloc', false)),
    },
    {
      name: 'calloc', symbols: ['calloc', '__libc_calloc'],
      run: (call) => {
        const n = call.arg(0);
        const size = call.arg(1);
        // Valgrind's calloc returns NULL on overflow of nmemb * size before the tool sees the
        // arguments, so calloc(-1, 4) is NULL without a fishy-value error; calloc(1, -8) is one.
        if (size !== 0n && n > (2n ** 64n - 1n) / size) return 0;
        if (h.fishy(call, 'calloc', 'nmemb', n) || h.fishy(call, 'calloc', 'size', size)) return 0;
        return h.alloc(call, Number(n * size), 16, 'malloc', true);
      },
    },
    {
      name: 'realloc', symbols: ['realloc', '__libc_realloc'],
      run: (call) => (h.fishy(call, 'realloc', 'size', call.arg(1)) ? 0 : h.realloc(call, call.num(0), call.num(1))),
    },
    {
      name: 'reallocarray', symbols: ['reallocarray', '__libc_reallocarray'],
      run: (call) => {
        const n = call.arg(1);
        const size = call.arg(2);
        if (size !== 0n && n > (2n ** 64n - 1n) / size) return 0;
        return h.realloc(call, call.num(0), Number(n * size));
      },
    },
    { name: 'free', symbols: ['free', '__libc_free', 'cfree'], run: (call) => (h.free(call, call.num(0), 'malloc'), 0) },
    {
      name: 'memalign', symbols: ['memalign', '__libc_memalign'],
      run: (call) => {
        let align = call.num(0);
        // glibc rounds a bad alignment up to the next power of two; Valgrind does the same.
        if (!isPow2(align)) align = 2 ** Math.ceil(Math.log2(Math.max(align, 1)));
        return h.fishy(call, 'memalign', 'size', call.arg(1)) ? 0 : h.alloc(call, call.num(1), Math.max(align, 16), 'malloc', false);
      },
    },
    {
      name: 'aligned_alloc', symbols: ['aligned_alloc', '__libc_aligned_alloc'],
      run: (call) => {
        const align = call.num(0);
        if (!isPow2(align)) return 0;
        return h.fishy(call, 'aligned_alloc', 'size', call.arg(1)) ? 0 : h.alloc(call, call.num(1), Math.max(align, 16), 'malloc', false);
      },
    },
    {
      name: 'posix_memalign', symbols: ['posix_memalign', '__posix_memalign'],
      run: (call) => {
        const align = call.num(1);
        if (align % 8 !== 0 || !isPow2(align)) return EINVAL;
        if (h.fishy(call, 'posix_memalign', 'size', call.arg(2))) return ENOMEM;
        const p = h.alloc(call, call.num(2), Math.max(align, 16), 'malloc', false);
        if (!p) return ENOMEM;
        h.storePointer(call, call.num(0), p);
        return 0;
      },
    },
    { name: 'valloc', symbols: ['valloc', '__libc_valloc'], run: (call) => h.alloc(call, call.num(0), 4096, 'malloc', false) },
    {
      name: 'pvalloc', symbols: ['pvalloc', '__libc_pvalloc'],
      run: (call) => h.alloc(call, Math.ceil(Math.max(call.num(0), 1) / 4096) * 4096, 4096, 'malloc', false),
    },
    { name: 'malloc_usable_size', symbols: ['malloc_usable_size', '__malloc_usable_size'], run: (call) => h.usableSize(call.num(0)) },
    newLike('operator new(unsigned long)', ['_Znwm'], 'new', false),
    newLike('operator new[](unsigned long)', ['_Znam'], 'new[]', false),
    newLike('operator new(unsigned long, std::nothrow_t const&)', [`_Znwm${NOTHROW}`], 'new', false),
    newLike('operator new[](unsigned long, std::nothrow_t const&)', [`_Znam${NOTHROW}`], 'new[]', false),
    newLike('operator new(unsigned long, std::align_val_t)', [`_Znwm${ALIGN_T}`], 'new', true),
    newLike('operator new[](unsigned long, std::align_val_t)', [`_Znam${ALIGN_T}`], 'new[]', true),
    newLike('operator new(unsigned long, std::align_val_t, std::nothrow_t const&)', [`_Znwm${ALIGN_T}${NOTHROW}`], 'new', true),
    newLike('operator new[](unsigned long, std::align_val_t, std::nothrow_t const&)', [`_Znam${ALIGN_T}${NOTHROW}`], 'new[]', true),
    deleteLike('operator delete(void*)', ['_ZdlPv'], 'new'),
    deleteLike('operator delete[](void*)', ['_ZdaPv'], 'new[]'),
    deleteLike('operator delete(void*, unsigned long)', ['_ZdlPvm'], 'new'),
    deleteLike('operator delete[](void*, unsigned long)', ['_ZdaPvm'], 'new[]'),
    deleteLike('operator delete(void*, std::nothrow_t const&)', [`_ZdlPv${NOTHROW}`], 'new'),
    deleteLike('operator delete[](void*, std::nothrow_t const&)', [`_ZdaPv${NOTHROW}`], 'new[]'),
    deleteLike('operator delete(void*, std::align_val_t)', [`_ZdlPv${ALIGN_T}`], 'new'),
    deleteLike('operator delete[](void*, std::align_val_t)', [`_ZdaPv${ALIGN_T}`], 'new[]'),
    deleteLike('operator delete(void*, unsigned long, std::align_val_t)', [`_ZdlPvm${ALIGN_T}`], 'new'),
    deleteLike('operator delete[](void*, unsigned long, std::align_val_t)', [`_ZdaPvm${ALIGN_T}`], 'new[]'),
    deleteLike('operator delete(void*, std::align_val_t, std::nothrow_t const&)', [`_ZdlPv${ALIGN_T}${NOTHROW}`], 'new'),
    deleteLike('operator delete[](void*, std::align_val_t, std::nothrow_t const&)', [`_ZdaPv${ALIGN_T}${NOTHROW}`], 'new[]'),
  ];
}
