/**
 * memcheck's client requests (memcheck.h, 'M','C' base) and the core heap-like requests a tool
 * implements (MALLOCLIKE/FREELIKE/RESIZEINPLACE blocks, mempools): each a row of a table.
 */
import type { ErrorFrame } from '../errors/error-record';
import * as R from '../errors/records';
import type { ExeContext } from './exe-contexts';
import { emptySummary } from '../errors/leak-report';
import type { LeakCheckRequest, Memcheck } from './memcheck';
import type { MempoolResult } from './mempools';

const MC = 0x4d430000;
type Handler = (mc: Memcheck, a: number[], raw: bigint[]) => bigint;

const n = (v: bigint): number => Number(BigInt.asUintN(64, v));

/** Length of the request's marker instruction, `xchg %rbx,%rbx`. */
const XCHG_LEN = 3;

/**
 * The stack of a client request as Valgrind records it: the request ends Valgrind's superblock,
 * so its first frame is the instruction after the `xchg %rbx,%rbx` (at -O2 often on the next
 * source line), where unigrind's trap stops on the xchg itself.
 */
function requestPcs(mc: Memcheck): number[] {
  const pcs = mc.proc.debug.pcsOf(mc.proc.uc, mc.opts.numCallers);
  if (pcs.length > 0) pcs[0] += XCHG_LEN;
  return pcs;
}

/** The request's stack, symbolized, for an error report. */
function requestStack(mc: Memcheck): ErrorFrame[] {
  return mc.proc.debug.frames(requestPcs(mc));
}

/** The request's stack, interned, as the allocation or free context of a client block. */
function requestContext(mc: Memcheck): ExeContext {
  return mc.contexts.intern(requestPcs(mc));
}

// Client-described blocks: a stack of the request, and what failed reported as InvalidMemPool.
function poolResult(mc: Memcheck, r: MempoolResult, addr: number): bigint {
  if (!r.ok) mc.report(R.invalidMemPool(mc.common(requestStack(mc), addr)));
  return 0n;
}

// DO_LEAK_CHECK's arguments: mode 0 full, 1 summary; delta 0 any, 1 increased, 2 changed.
// Memcheck warns about other values and searches in full / any mode.
function leakCheckRequest(mode: number, delta: number): LeakCheckRequest {
  const warnings: string[] = [];
  if (mode > 1) warnings.push('Warning: unknown memcheck leak search mode');
  if (delta > 2) warnings.push('Warning: unknown memcheck leak search deltamode');
  return { mode: mode === 1 ? 'summary' : 'full', delta: delta === 1 ? 'increased' : delta === 2 ? 'changed' : 'any', warnings };
}

// COUNT_LEAKS / COUNT_LEAK_BLOCKS: the last search's leaked (definite + indirect), dubious,
// reachable and suppressed figures into the guest's four words. Like memcheck, the values are
// written as they are and their definedness is left alone (memcheck.h initialises them).
function countLeaks(mc: Memcheck, a: number[], unit: 'bytes' | 'blocks'): bigint {
  const s = mc.leakHistory.summary ?? emptySummary();
  const values = [s.definite[unit] + s.indirect[unit], s.possible[unit], s.reachable[unit], s.suppressed[unit]];
  values.forEach((v, i) => {
    if (mc.proc.mem.isMapped(a[i + 1], 8)) mc.proc.mem.writeU64(a[i + 1], v);
  });
  return 0n;
}

const HANDLERS: Record<number, Handler> = {
  [MC + 0]: (mc, a) => (mc.shadow.makeNoAccess(a[1], a[2]), 0n),
  [MC + 1]: (mc, a) => (mc.shadow.makeUndefined(a[1], a[2]), 0n),
  [MC + 2]: (mc, a) => (mc.shadow.makeDefined(a[1], a[2]), 0n),
  [MC + 3]: () => 0n, // DISCARD of a CREATE_BLOCK handle: nothing kept beyond the description
  [MC + 4]: (mc, a) => {
    const bad = mc.shadow.firstUnaddressable(a[1], a[2]);
    if (bad < 0) return 0n;
    mc.report(R.clientCheck(true, mc.common(requestStack(mc), bad)));
    return BigInt(bad);
  },
  [MC + 5]: (mc, a) => {
    const bad = mc.shadow.firstUnaddressable(a[1], a[2]);
    const undef = bad >= 0 ? bad : mc.shadow.firstUndefined(a[1], a[2]);
    if (undef < 0) return 0n;
    mc.report(R.clientCheck(bad >= 0, mc.common(requestStack(mc), undef)));
    return BigInt(undef);
  },
  [MC + 6]: (mc, a) => (mc.requestLeakCheck(leakCheckRequest(a[1], a[2])), 0n),
  [MC + 7]: (mc, a) => countLeaks(mc, a, 'bytes'),
  [MC + 8]: (mc, a) => {
    // GET_VBITS: 1 ok, 3 unaddressable; memcheck's V-bit bytes go to the guest's buffer.
    if (mc.shadow.firstUnaddressable(a[1], a[3]) >= 0 || mc.shadow.firstUnaddressable(a[2], a[3]) >= 0) return 3n;
    mc.proc.mem.write(a[2], mc.shadow.getVbits(a[1], a[3]));
    mc.shadow.makeDefined(a[2], a[3]);
    return 1n;
  },
  [MC + 9]: (mc, a) => {
    if (mc.shadow.firstUnaddressable(a[1], a[3]) >= 0 || mc.shadow.firstUnaddressable(a[2], a[3]) >= 0) return 3n;
    mc.shadow.setVbits(a[1], mc.proc.mem.read(a[2], a[3]));
    return 1n;
  },
  [MC + 10]: () => 0n, // CREATE_BLOCK: a description only used by address descriptions
  [MC + 11]: (mc, a) => (mc.shadow.makeDefinedIfAddressable(a[1], a[2]), 0n),
  [MC + 12]: (mc, a) => countLeaks(mc, a, 'blocks'),
  // Core requests a tool implements: heap-like blocks and mempools.
  0x1301: (mc, a) => (mc.pools.mallocLike(a[1], a[2], a[3], a[4] !== 0, requestContext(mc)), 0n),
  0x1302: (mc, a) => {
    if (a[1] === 0) return 0n;
    const r = mc.pools.freeLike(a[1], a[2], requestContext(mc));
    if (!r.ok) mc.report(R.invalidFree(mc.common(requestStack(mc), a[1])));
    return 0n;
  },
  0x130b: (mc, a) => poolResult(mc, mc.pools.resizeInPlace(a[1], a[2], a[3], a[4]), a[1]),
  0x1303: (mc, a) => poolResult(mc, mc.pools.create(a[1], a[2], a[3] !== 0, { autoFree: (a[4] & 1) !== 0, metapool: (a[4] & 2) !== 0 }), a[1]),
  0x1304: (mc, a) => poolResult(mc, mc.pools.destroy(a[1]), a[1]),
  0x1305: (mc, a) => poolResult(mc, mc.pools.alloc(a[1], a[2], a[3], requestContext(mc)), a[1]),
  0x1306: (mc, a) => poolResult(mc, mc.pools.free(a[1], a[2], requestContext(mc)), a[1]),
  0x1307: (mc, a) => poolResult(mc, mc.pools.trim(a[1], a[2], a[3], requestContext(mc)), a[1]),
  0x1308: (mc, a) => poolResult(mc, mc.pools.move(a[1], a[2]), a[1]),
  0x1309: (mc, a) => poolResult(mc, mc.pools.change(a[1], a[2], a[3], a[4]), a[1]),
  0x130a: (mc, a) => (mc.pools.exists(a[1]) ? 1n : 0n),
};

/** Answers a client request if memcheck knows it; undefined leaves the default result. */
export function memcheckClientRequest(mc: Memcheck, code: number, raw: bigint[]): bigint | undefined {
  const h = HANDLERS[code];
  return h ? h(mc, raw.map(n), raw) : undefined;
}
