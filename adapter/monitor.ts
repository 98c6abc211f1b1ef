/**
 * Valgrind's memcheck monitor commands (`monitor …` in gdb through vgdb; here in the debug
 * console), answering in Valgrind's texts (mc_main.c's handle_gdb_monitor_command, reference
 * memcheck.md §12): leak_check, block_list, who_points_at, get_vbits, make_memory,
 * check_memory, xb, and the core's v.info last_error / n_errs_found.
 */
import { DWARF_REGS } from '../engine/cpu/x86-const';
import { describeAddress } from '../engine/errors/address-description';
import type { ErrorManager } from '../engine/errors/error-manager';
import type { ErrorFrame, LeakState } from '../engine/errors/error-record';
import { hexUpper, withCommas } from '../engine/errors/format';
import type { LossRecordInput } from '../engine/errors/leak-report';
import { sortLossRecords } from '../engine/errors/leak-report';
import { printedFrames, stackIps } from '../engine/errors/stack';
import type { Memcheck } from '../engine/memcheck/memcheck';
import type { GuestProcess } from '../engine/process/guest-process';
import { stackTextLines } from '../engine/report/frames';
import { errorText } from '../engine/report/text-writer';

/** A command the monitor does not understand or whose arguments are wrong. */
export class MonitorError extends Error {}

const STATE_WORDS: Record<LeakState, string> = {
  definite: 'definitely lost', indirect: 'indirectly lost', possible: 'possibly lost', reachable: 'still reachable',
};
const SUMMARY_LABELS: Array<[LeakState, string]> = [
  ['definite', '   definitely lost'], ['indirect', '   indirectly lost'], ['possible', '     possibly lost'], ['reachable', '   still reachable'],
];

type DeltaMode = 'any' | 'increased' | 'changed' | 'new';

/** Valgrind's `%p`: 0x and lower-case hex. */
const ptr = (n: number): string => `0x${n.toString(16)}`;

export class Monitor {
  /** Loss records of the previous leak search, by state and stack, for delta searches. */
  private previous = new Map<string, Totals>();
  private previousTotals: Record<LeakState, { bytes: number; blocks: number }> | undefined;
  private lastRecords: LossRecordInput[] = [];

  constructor(private readonly proc: GuestProcess, private readonly memcheck: Memcheck | undefined, private readonly manager: ErrorManager,
    /** --vgdb-error, which `v.info n_errs_found` reports. */
    private readonly vgdbError: number) {}

  /** Runs one command line (without the word "monitor"); returns its output text. */
  run(line: string): string {
    const words = line.trim().split(/\s+/).filter((w) => w !== '');
    const [cmd = 'help', ...args] = words;
    const name = unique(cmd, ['help', 'leak_check', 'block_list', 'who_points_at', 'get_vbits', 'make_memory', 'check_memory', 'xb', 'v.info']);
    if (name === 'help') return HELP;
    if (name === 'v.info') return this.vinfo(args);
    const mc = this.memcheck;
    if (!mc) throw new MonitorError(`${name}: not available with --tool=none`);
    switch (name) {
      case 'leak_check': return this.leakCheck(mc, args);
      case 'block_list': return this.blockList(mc, args);
      case 'who_points_at': return this.whoPointsAt(mc, args);
      case 'get_vbits': return this.getVbits(mc, args);
      case 'make_memory': return this.makeMemory(mc, args);
      case 'check_memory': return this.checkMemory(mc, args);
      default: return this.xb(mc, args);
    }
  }

  private vinfo(args: string[]): string {
    const what = unique(args[0] ?? '', ['last_error', 'n_errs_found']);
    if (what === 'last_error') {
      const e = this.manager.lastError();
      return e ? errorText(e.record) : 'no last error\n';
    }
    const c = this.manager.counts();
    return `n_errs_found ${c.errors} n_errs_shown ${c.shown} (vgdb-error ${this.vgdbError})${args.length > 1 ? ` ${args.slice(1).join(' ')}` : ''}\n`;
  }

  // ------------------------------------------------------------ leaks

  private leakCheck(mc: Memcheck, args: string[]): string {
    let mode: 'full' | 'summary' = 'full';
    let kinds: Set<LeakState> = new Set(['definite', 'indirect', 'possible']);
    let delta: DeltaMode = 'increased';
    let limit = Infinity;
    for (let i = 0; i < args.length; i++) {
      const w = unique(args[i], ['full', 'summary', 'xtleak', 'kinds', 'reachable', 'possibleleak', 'definiteleak', 'heuristics',
        'increased', 'changed', 'any', 'new', 'unlimited', 'limited']);
      switch (w) {
        case 'full': case 'summary': mode = w; break;
        case 'xtleak': throw new MonitorError('leak_check xtleak: xtree leak reports are not supported');
        case 'reachable': kinds = new Set(['definite', 'indirect', 'possible', 'reachable']); break;
        case 'possibleleak': kinds = new Set(['definite', 'indirect', 'possible']); break;
        case 'definiteleak': kinds = new Set(['definite']); break;
        case 'kinds': kinds = parseKinds(args[++i]); break;
        case 'heuristics': i++; break; // the engine's --leak-check-heuristics apply
        case 'unlimited': limit = Infinity; break;
        case 'limited': limit = Number(args[++i]); if (!(limit >= 0)) throw new MonitorError('limited needs a number'); break;
        default: delta = w as DeltaMode;
      }
    }
    const { records } = mc.leakSearch();
    const sorted = sortLossRecords(records);
    this.lastRecords = sorted;
    const lines: string[] = [];
    const totals = zeroTotals();
    let shown = 0;
    sorted.forEach((r, i) => {
      totals[r.state].bytes += r.bytes;
      totals[r.state].blocks += r.blocks;
      const key = recordKey(r);
      const old = this.previous.get(key);
      const changed = !old || old.bytes !== r.bytes || old.blocks !== r.blocks;
      const increased = !old || r.bytes > old.bytes || r.blocks > old.blocks;
      const wanted = delta === 'any' || (delta === 'new' ? !old : delta === 'changed' ? changed : increased);
      if (mode !== 'full' || !kinds.has(r.state) || !wanted || shown >= limit) return;
      shown++;
      lines.push(lossRecordLine(r, i + 1, sorted.length, delta === 'any' ? undefined : old ?? { bytes: 0, indirect: 0, blocks: 0 }));
      lines.push(...stackTextLines(printedFrames(r.stack)), '');
    });
    lines.push('LEAK SUMMARY:');
    for (const [state, label] of SUMMARY_LABELS) {
      const t = totals[state];
      const o = delta === 'any' ? undefined : this.previousTotals?.[state] ?? { bytes: 0, blocks: 0 };
      lines.push(`${label}: ${withCommas(t.bytes)}${d(t.bytes, o?.bytes)} bytes in ${withCommas(t.blocks)}${d(t.blocks, o?.blocks)} blocks`);
    }
    lines.push('        suppressed: 0 bytes in 0 blocks');
    if (mode === 'full' && !kinds.has('reachable') && totals.reachable.blocks > 0) {
      lines.push('Reachable blocks (those to which a pointer was found) are not shown.', "To see them, add 'reachable any' args to leak_check");
    }
    this.previous = new Map(sorted.map((r) => [recordKey(r), { bytes: r.bytes, indirect: r.state === 'definite' ? r.indirectBytes : 0, blocks: r.blocks }]));
    this.previousTotals = totals;
    return lines.join('\n') + '\n';
  }

  /**
   * block_list: the blocks of loss records of the last leak_check. Blocks are found as the live
   * blocks allocated at the record's stack: exact unless several records share one stack (blocks
   * of one allocation site in different leak states), which the output then says.
   */
  private blockList(mc: Memcheck, args: string[]): string {
    if (this.lastRecords.length === 0) throw new MonitorError('Can\'t print block list : no valid leak search result');
    const m = /^(\d+)(?:\.\.(\d+))?$/.exec(args[0] ?? '');
    if (!m) throw new MonitorError('block_list needs a loss record number or a range from..to');
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    const lines: string[] = [];
    for (let n = from; n <= to; n++) {
      const r = this.lastRecords[n - 1];
      if (!r) { lines.push(`invalid loss record nr ${n}`); continue; }
      lines.push(lossRecordLine(r, n, this.lastRecords.length, undefined), ...stackTextLines(printedFrames(r.stack)));
      const ips = stackIps(r.stack).join(',');
      const shared = this.lastRecords.filter((x) => stackIps(x.stack).join(',') === ips).length > 1;
      for (const b of mc.heap.liveBlocks()) {
        if (stackIps(mc.framesOf(b.allocCtx)).join(',') === ips) lines.push(`${hexUpper(b.start)}[${b.size}]`);
      }
      if (shared) lines.push('(blocks of every loss record with this allocation stack are listed)');
    }
    return lines.join('\n') + '\n';
  }

  private whoPointsAt(mc: Memcheck, args: string[]): string {
    const addr = parseAddress(args[0], 'who_points_at');
    const len = args[1] !== undefined ? parseLength(args[1]) : 1;
    const lines = [len === 1 ? `Searching for pointers to ${ptr(addr)}` : `Searching for pointers pointing in ${len} bytes from ${ptr(addr)}`];
    const point = (where: number, value: number): string => (value === addr
      ? `*${ptr(where)} points at ${ptr(addr)}` : `*${ptr(where)} interior points at ${value - addr} bytes inside ${ptr(addr)}`);
    // Registers of every live thread first, as Valgrind scans them.
    for (const t of this.proc.threads) {
      if (t.state === 'dead') continue;
      DWARF_REGS.slice(0, 16).forEach((reg, i) => {
        const v = Number(t === this.proc.current || !t.ctx ? this.proc.uc.reg_read(reg) : this.proc.uc.context_reg_read(t.ctx, reg));
        if (v >= addr && v < addr + len) {
          lines.push(v === addr ? `tid ${t.number} register ${REG_NAMES[i]} points at ${ptr(addr)}`
            : `tid ${t.number} register ${REG_NAMES[i]} interior points at ${v - addr} bytes inside ${ptr(addr)}`);
        }
      });
    }
    for (const r of this.proc.mem.list()) {
      if ((r.perms & 1) === 0) continue;
      const view = this.proc.mem.view(r.start, r.end - r.start);
      if (!view) continue;
      const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
      for (let off = 0; off + 8 <= view.byteLength; off += 8) {
        const lo = dv.getUint32(off, true);
        const hi = dv.getUint32(off + 4, true);
        const v = hi * 0x100000000 + lo;
        if (v < addr || v >= addr + len) continue;
        const where = r.start + off;
        // Only words memcheck considers valid pointers (addressable and defined) count, as in the leak search.
        if (!mc.shadow.isValidAlignedWord(where)) continue;
        lines.push(point(where, v), ...this.describe(mc, where));
      }
    }
    return lines.join('\n') + '\n';
  }

  // ------------------------------------------------------------ A and V bits

  private getVbits(mc: Memcheck, args: string[]): string {
    const addr = parseAddress(args[0], 'get_vbits');
    const len = args[1] !== undefined ? parseLength(args[1]) : 1;
    const vbits = mc.shadow.getVbits(addr, len);
    let out = '';
    let unaddressable = 0;
    for (let i = 0; i < len; i++) {
      if (mc.shadow.isAddressable(addr + i)) out += vbits[i].toString(16).padStart(2, '0');
      else { out += '__'; unaddressable++; }
      if (i % 32 === 31) out += '\n';
      else if (i % 4 === 3) out += ' ';
    }
    if (len % 32 !== 0) out += '\n';
    if (unaddressable) out += `Address ${ptr(addr)} len ${len} has ${unaddressable} bytes unaddressable\n`;
    return out;
  }

  private makeMemory(mc: Memcheck, args: string[]): string {
    const kind = unique(args[0] ?? '', ['noaccess', 'undefined', 'defined', 'Definedifaddressable']);
    const addr = parseAddress(args[1], 'make_memory');
    const len = args[2] !== undefined ? parseLength(args[2]) : 1;
    switch (kind) {
      case 'noaccess': mc.shadow.makeNoAccess(addr, len); break;
      case 'undefined': mc.shadow.makeUndefined(addr, len); break;
      case 'defined': mc.shadow.makeDefined(addr, len); break;
      default: mc.shadow.makeDefinedIfAddressable(addr, len);
    }
    return '';
  }

  private checkMemory(mc: Memcheck, args: string[]): string {
    const kind = unique(args[0] ?? '', ['addressable', 'defined']);
    const addr = parseAddress(args[1], 'check_memory');
    const len = args[2] !== undefined ? parseLength(args[2]) : 1;
    const lines: string[] = [];
    const bad = mc.shadow.firstUnaddressable(addr, len);
    if (bad >= 0) lines.push(`Address ${ptr(addr)} len ${len} not addressable:`, `bad address ${ptr(bad)}`);
    else if (kind === 'addressable') lines.push(`Address ${ptr(addr)} len ${len} addressable`);
    else {
      const undef = mc.shadow.firstUndefined(addr, len);
      if (undef >= 0) lines.push(`Address ${ptr(addr)} len ${len} not defined:`, `Uninitialised value at ${ptr(undef)}`);
      else lines.push(`Address ${ptr(addr)} len ${len} defined`);
    }
    lines.push(...this.describe(mc, addr));
    return lines.join('\n') + '\n';
  }

  private xb(mc: Memcheck, args: string[]): string {
    const addr = parseAddress(args[0], 'xb');
    const len = args[1] !== undefined ? parseLength(args[1]) : 1;
    const vbits = mc.shadow.getVbits(addr, len);
    const lines: string[] = [];
    let unaddressable = 0;
    for (let row = 0; row < len; row += 8) {
      let v = '\t\t';
      let b = `${hexUpper(addr + row)}:`;
      for (let i = row; i < Math.min(len, row + 8); i++) {
        const a = addr + i;
        if (mc.shadow.isAddressable(a) && this.proc.mem.find(a)) {
          v += `  ${vbits[i].toString(16).padStart(2, '0')}\t`;
          b += `\t0x${(this.proc.mem.view(a, 1) as Uint8Array)[0].toString(16).padStart(2, '0')}`;
        } else {
          unaddressable++;
          v += '  __\t';
          b += '\t0x??';
        }
      }
      lines.push(v.trimEnd(), b);
    }
    if (unaddressable) lines.push(`Address ${ptr(addr)} len ${len} has ${unaddressable} bytes unaddressable`);
    return lines.join('\n') + '\n';
  }

  /** memcheck's description of an address (pp_describe_addr), as error texts print it. */
  private describe(mc: Memcheck, addr: number): string[] {
    const out: string[] = [];
    for (const a of describeAddress(mc.addressInfo(addr))) {
      out.push(` ${a.text}`);
      if (a.stack?.length) out.push(...stackTextLines(printedFrames(a.stack as ErrorFrame[])));
    }
    return out;
  }
}

/** Bytes and blocks of a loss record (indirect bytes for definite records) in a search. */
interface Totals { bytes: number; indirect: number; blocks: number }

const REG_NAMES = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

const HELP = `memcheck monitor commands:
  xb <addr> [<len>]
        prints validity bits for <len> (or 1) bytes at <addr>
  get_vbits <addr> [<len>]
        returns validity bits for <len> (or 1) bytes at <addr>
  make_memory [noaccess|undefined|defined|Definedifaddressable] <addr> [<len>]
        mark <len> (or 1) bytes at <addr> with the given accessibility
  check_memory [addressable|defined] <addr> [<len>]
        check that <len> (or 1) bytes at <addr> have the given accessibility
        and outputs a description of <addr>
  leak_check [full*|summary]
                [kinds kind1,kind2,...|reachable|possibleleak*|definiteleak]
                [increased*|changed|any|new]
                [unlimited*|limited <max_loss_records_output>]
            * = defaults
  block_list <loss_record_nr>|<loss_record_nr_from>..<loss_record_nr_to>
        after a leak search, shows the list of blocks of <loss_record_nr>
  who_points_at <addr> [<len>]
        shows places pointing inside <len> (default 1) bytes at <addr>
  v.info last_error | n_errs_found
        shows the last error found / the number of errors found
`;

function unique(word: string, choices: readonly string[]): string {
  if (choices.includes(word)) return word;
  const hits = choices.filter((c) => c.startsWith(word));
  if (word !== '' && hits.length === 1) return hits[0];
  throw new MonitorError(hits.length > 1 ? `"${word}" is ambiguous: ${hits.join(' ')}` : `unknown word "${word}" (expected one of: ${choices.join(' ')})`);
}

function parseAddress(w: string | undefined, cmd: string): number {
  if (w === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(w)) throw new MonitorError(`${cmd}: missing or malformed address`);
  return Number(w);
}

function parseLength(w: string): number {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(w)) throw new MonitorError(`malformed length "${w}"`);
  return Number(w);
}

function parseKinds(w: string | undefined): Set<LeakState> {
  const all: LeakState[] = ['definite', 'indirect', 'possible', 'reachable'];
  if (w === 'all') return new Set(all);
  if (w === 'none') return new Set();
  const out = new Set<LeakState>();
  for (const k of (w ?? '').split(',')) {
    if (!all.includes(k as LeakState)) throw new MonitorError(`kinds: unknown leak kind "${k}"`);
    out.add(k as LeakState);
  }
  return out;
}

function recordKey(r: LossRecordInput): string {
  return `${r.state}:${stackIps(r.stack).join(',')}`;
}

function zeroTotals(): Record<LeakState, { bytes: number; blocks: number }> {
  return { definite: { bytes: 0, blocks: 0 }, indirect: { bytes: 0, blocks: 0 }, possible: { bytes: 0, blocks: 0 }, reachable: { bytes: 0, blocks: 0 } };
}

/** " (+N)" / " (-N)" after a number in a delta leak search. */
function d(now: number, before: number | undefined): string {
  if (before === undefined) return '';
  const x = now - before;
  return ` (${x >= 0 ? '+' : '-'}${withCommas(Math.abs(x))})`;
}

/** The loss-record line, with deltas against the previous search when `old` is given. */
function lossRecordLine(r: LossRecordInput, no: number, total: number, old: Totals | undefined): string {
  const isNew = old !== undefined && old.bytes === 0 && old.blocks === 0;
  const tail = `in ${withCommas(r.blocks)}${d(r.blocks, old?.blocks)} blocks are ${STATE_WORDS[r.state]} in ${isNew ? 'new ' : ''}loss record ${withCommas(no)} of ${withCommas(total)}`;
  const indirect = r.state === 'definite' ? r.indirectBytes : 0;
  if (indirect > 0) {
    return `${withCommas(r.bytes + indirect)}${d(r.bytes + indirect, old && old.bytes + old.indirect)} (${withCommas(r.bytes)}${d(r.bytes, old?.bytes)} direct, ${withCommas(indirect)}${d(indirect, old?.indirect)} indirect) bytes ${tail}`;
  }
  return `${withCommas(r.bytes)}${d(r.bytes, old?.bytes)} bytes ${tail}`;
}
