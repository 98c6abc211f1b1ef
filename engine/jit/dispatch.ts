/**
 * The translation cache and run loop: looks blocks up by guest address (lifting, optimising,
 * instrumenting and compiling them on first use), runs them one after another, and returns to
 * the engine when a block ends in something only the engine can do — a system call, an
 * instruction the lifter does not cover (NoDecode: run it on Unicorn), a trap — or when the
 * instruction budget is spent (so that the engine can switch threads and deliver signals).
 *
 * The cache is invalidated by address range when guest code changes (writes to code pages,
 * munmap, mprotect), as the engine's memory listener reports.
 */
import { compileCode, CompiledCode, runCode } from './codegen';
import type { FusedNames } from './fused-access';
import { BlockExit, interpret, InterpEnv } from './interp';
import { IRSB } from './ir';
import { CodeFetch, liftBlock, LiftOptions } from './lift/lift';
import { optimize } from './opt';
import type { GuestState } from './guest-state';

export interface DispatchOptions extends LiftOptions {
  /** A tool's instrumentation (memcheck's instrumentMemcheck), applied after optimisation. */
  readonly instrument?: (sb: IRSB) => IRSB;
  /**
   * A tool's fast instrumentation, used first where it gives one: its side exits of kind
   * 'SlowPath' continue on the full instrumentation from that instruction.
   */
  readonly instrumentFast?: (sb: IRSB) => IRSB | undefined;
  /** Run blocks through the interpreter instead of compiled JS (slow; for debugging). */
  readonly interpret?: boolean;
  /**
   * Runs of a block in the interpreter before it is compiled to JS (compiling costs about half a
   * millisecond a block, which start-up code that runs once never earns back). 0: compile at once.
   */
  readonly hotThreshold?: number;
  /** The tool's shadow helpers compiled code fuses with their accesses (runs need env.fused). */
  readonly fuse?: FusedNames;
}

/** Default interpreted runs before compilation. */
const HOT_THRESHOLD = 30;
/** Extra runs a self-looping compiled block may make per call (its loop stays within the run budget's order). */
const SELF_LOOPS = 1000;
/** Exits to the full translation after which a fast translation is replaced by the full one. */
const SLOW_PATH_LIMIT = 1000;

/** One cached translation. */
interface Translation {
  readonly addr: number;
  /** Guest bytes covered, as [start, end) pairs: [addr, addr + len) unless the block chased jumps. */
  readonly extents: readonly number[];
  readonly insns: number;
  /** The optimised, instrumented block, until it is compiled (then only its code is kept). */
  ir: IRSB | undefined;
  /** Its compiled code, once hot (until then the interpreter runs it). */
  code?: CompiledCode;
  /** Interpreted runs left before the block is compiled. */
  coldRuns: number;
  /** The tool's fast instrumentation (instrumentFast), and how often it left for the full one. */
  fast: boolean;
  slowPaths: number;
  /** The block that followed last time (a direct link, valid while `linkEpoch` is current). */
  next?: Translation;
  nextAddr?: number;
  linkEpoch?: number;
}

/** Why run() returned: the exit of the last block (its jk is not Boring/Call/Ret), or the budget. */
export interface RunResult {
  /** The last block's exit; undefined when the budget ran out between blocks. */
  readonly exit?: BlockExit;
  /** Guest instructions executed (a block left by a side exit counts the instructions before it). */
  readonly insns: number;
}

/** Entries of the direct-mapped lookup cache in front of the translation map (a power of two). */
const FAST_SIZE = 4096;

export class Dispatcher {
  private readonly cache = new Map<number, Translation>();
  /** Full translations by address, where fast ones left for them ('SlowPath' exits). */
  private readonly slow = new Map<number, Translation>();
  // A direct-mapped cache by address in front of the map: guest code addresses are above 2^31,
  // so Map lookups hash heap numbers, which cost more than a returning block's own run.
  private readonly fastAddr = new Float64Array(FAST_SIZE).fill(-1);
  private readonly fastT: (Translation | undefined)[] = new Array<Translation | undefined>(FAST_SIZE).fill(undefined);
  /** Blocks translated so far. */
  translations = 0;
  /** Blocks compiled to JS so far (the others are interpreted). */
  compiled = 0;
  /** Translations with the fast instrumentation, and the exits from them to a full one. */
  fastTranslations = 0;
  slowPaths = 0;
  /** Bumped by every invalidation, which makes all links between translations stale. */
  private epoch = 0;

  constructor(private readonly fetch: CodeFetch, private readonly opts: DispatchOptions = {}) {}

  /** The translation of the block at addr (made on first use). */
  lookup(addr: number): Translation {
    const i = (addr ^ (addr >>> 12)) & (FAST_SIZE - 1);
    if (this.fastAddr[i] === addr) return this.fastT[i]!;
    let t = this.cache.get(addr);
    if (!t) {
      t = this.translate(addr, true);
      this.cache.set(addr, t);
    }
    this.fastAddr[i] = addr;
    this.fastT[i] = t;
    return t;
  }

  /** Lifts, optimises and instruments the block at addr (with the fast instrumentation if allowed and there is one). */
  private translate(addr: number, fast: boolean): Translation {
    const sb = liftBlock(this.fetch, addr, this.opts);
    let ir = optimize(sb);
    const { instrument, instrumentFast } = this.opts;
    const f = fast && instrumentFast ? instrumentFast(ir) : undefined;
    if (f) ir = optimize(f);
    else if (instrument) ir = optimize(instrument(ir));
    const hot = this.opts.interpret ? Infinity : this.opts.hotThreshold ?? HOT_THRESHOLD;
    const t: Translation = { addr, extents: codeExtents(sb), insns: sb.insns, ir, coldRuns: hot, fast: f !== undefined, slowPaths: 0 };
    if (hot <= 0) this.compile(t);
    this.translations++;
    if (t.fast) this.fastTranslations++;
    return t;
  }

  /** The full translation at addr, after fast translation t left for it; t becomes a full one after SLOW_PATH_LIMIT of those. */
  private slowPath(t: Translation, addr: number): Translation {
    this.slowPaths++;
    if (t.fast && ++t.slowPaths >= SLOW_PATH_LIMIT) {
      // Links to t stay valid: t takes the full translation's IR or code.
      const full = this.full(t.addr);
      t.ir = full.ir;
      t.code = full.code;
      t.coldRuns = full.coldRuns;
      t.fast = false;
    }
    return this.full(addr);
  }

  /** The full translation of the block at addr (made on first use). */
  private full(addr: number): Translation {
    let s = this.slow.get(addr);
    if (!s) {
      s = this.translate(addr, false);
      this.slow.set(addr, s);
    }
    return s;
  }

  private compile(t: Translation): void {
    // One-instruction blocks (a debugger's watch) must come back after every instruction.
    t.code = compileCode(t.ir!, { selfLoops: this.opts.maxInsns === 1 ? 0 : SELF_LOOPS, fuse: this.opts.fuse });
    // An instrumented block's IR is some 20 KB of objects: python3's start-up makes 18,000 blocks.
    t.ir = undefined;
    this.compiled++;
  }

  /** Drops translations overlapping [start, end) (guest code changed or went away). */
  invalidate(start: number, end: number): void {
    const dropped = dropOverlapping(this.cache, start, end) + dropOverlapping(this.slow, start, end);
    if (dropped > 0) {
      this.epoch++;
      this.fastAddr.fill(-1);
      this.fastT.fill(undefined);
    }
  }

  /**
   * Runs blocks from state's RIP until a block ends with a jump kind the engine must handle, or
   * about maxInsns guest instructions have run.
   */
  run(s: GuestState, env: InterpEnv, maxInsns = Infinity): RunResult {
    let insns = 0;
    let t = this.lookup(s.rip);
    for (;;) {
      let exit: BlockExit;
      const c = t.code;
      if (c !== undefined) {
        exit = runCode(c, s, env);
        insns += (c.loops ? t.insns * c.K.loops : 0) + (exit.insns ?? t.insns);
      } else {
        exit = interpret(t.ir!, s, env);
        insns += exit.insns ?? t.insns;
        if (--t.coldRuns <= 0) this.compile(t);
      }
      const jk = exit.jk;
      if (jk === 'SlowPath') {
        t = this.slowPath(t, exit.next);
        continue;
      }
      if (jk !== 'Boring' && jk !== 'Call' && jk !== 'Ret') return { exit, insns };
      if (insns >= maxInsns) return { insns };
      // Follow the link to the block that came next last time instead of looking it up.
      const addr = exit.next;
      let n = t.nextAddr === addr && t.linkEpoch === this.epoch ? t.next : undefined;
      if (!n) {
        n = this.lookup(addr);
        t.next = n;
        t.nextAddr = addr;
        t.linkEpoch = this.epoch;
      }
      t = n;
    }
  }
}

/** Deletes the translations whose code overlaps [start, end); returns how many. */
function dropOverlapping(cache: Map<number, Translation>, start: number, end: number): number {
  let n = 0;
  for (const [a, t] of cache) {
    const x = t.extents;
    for (let i = 0; i < x.length; i += 2) {
      if (x[i] < end && x[i + 1] > start) {
        cache.delete(a);
        n++;
        break;
      }
    }
  }
  return n;
}

/**
 * The guest code ranges a lifted block came from, as [start, end) pairs: one range of at least a
 * byte (an empty NoDecode block still stands for its address), or one per run of contiguous
 * instructions when it chased jumps.
 */
function codeExtents(sb: IRSB): number[] {
  const out = [sb.addr, sb.addr + Math.max(sb.len, 1)];
  for (const s of sb.stmts) {
    if (s.tag !== 'imark') continue;
    const last = out.length - 1;
    if (s.addr >= out[last - 1] && s.addr <= out[last]) out[last] = Math.max(out[last], s.addr + s.len);
    else out.push(s.addr, s.addr + s.len);
  }
  return out;
}
