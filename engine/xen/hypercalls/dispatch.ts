/**
 * A checked hypercall from start to finish: PRE (the privcmd argument block, then the
 * hypercall's declaration — recursively for multicall entries), the hypervisor, POST.
 */

import { GuestMemory, Hypervisor, ParamChecker, WarnSink } from '../interfaces';
import { EFAULT, isError } from '../errno';
import { readUint } from '../layouts/view';
import { checkHypercall, CheckedCall, CheckEnv } from './walker';
import { hypercallByNumber, hypercallName, HC } from './registry';

/** Prefix of every parameter name for hypercalls issued through privcmd. */
export const PRIVCMD_SITE = 'ioctl(privcmd hypercall';

const ENTRY_SIZE = 64;
/** Multicalls inside multicalls are decoded this deep at most. */
const MAX_DEPTH = 4;

/** PRE for one hypercall (multicall or not), given its raw arguments. */
export function preHypercall(op: number, args: readonly bigint[], env: CheckEnv, site: string, depth = 0): CheckedCall {
  if (op !== HC.multicall || depth >= MAX_DEPTH) return checkHypercall(op, args, env, site);
  return checkMulticall(args, env, site, depth);
}

/**
 * Multicall: each 64-byte entry's `op` and the argument slots that op uses are read by Xen;
 * then the op's own declaration applies to those arguments. After the call every entry's
 * `result` is defined, and each entry whose result is not an error gets its own POST.
 */
function checkMulticall(args: readonly bigint[], env: CheckEnv, site: string, depth: number): CheckedCall {
  const list = Number(BigInt.asUintN(64, args[0] ?? 0n));
  const n = Math.min(Number(BigInt.asUintN(32, args[1] ?? 0n)), 4096);
  const entries: Array<{ addr: number; call: CheckedCall | undefined }> = [];
  for (let i = 0; i < n; i++) {
    const addr = list + i * ENTRY_SIZE;
    const here = `${site} multicall[${i}]`;
    env.checker.preRead(addr, 8, `${here} op)`);
    env.checker.preWrite(addr + 8, 8, `${here} result)`);
    let call: CheckedCall | undefined;
    try {
      const op = Number(readUint(env.mem, addr, 8));
      const decl = hypercallByNumber(op);
      const nargs = decl?.args.length ?? 0;
      const name = decl?.name ?? hypercallName(op) ?? String(op);
      const sub: bigint[] = [];
      for (let a = 0; a < 6; a++) {
        if (a < nargs) env.checker.preRead(addr + 16 + 8 * a, 8, `${here} ${name} ${decl!.args[a]})`);
        sub.push(readUint(env.mem, addr + 16 + 8 * a, 8));
      }
      call = preHypercall(op, sub, env, here, depth + 1);
    } catch {
      call = undefined; // unreadable entry: already reported as unaddressable
    }
    entries.push({ addr, call });
  }
  return {
    label: 'multicall',
    decl: hypercallByNumber(HC.multicall),
    sub: undefined,
    post(result) {
      if (isError(result)) return;
      for (const e of entries) {
        env.checker.postWrite(e.addr + 8, 8);
        if (!e.call) continue;
        try {
          e.call.post(readUint(env.mem, e.addr + 8, 8));
        } catch { /* entry became unreadable: nothing to mark */ }
      }
    },
  };
}

/**
 * IOCTL_PRIVCMD_HYPERCALL: `privcmd_hypercall { u64 op; u64 arg[5]; }` at `argAddr`. Checks the
 * op and the argument slots the hypercall uses, the hypercall's declared memory, issues it and
 * marks the results. Returns Xen's `long` result (negative errno on failure).
 */
export function privcmdHypercall(argAddr: number, mem: GuestMemory, checker: ParamChecker, hv: Hypervisor, warn: WarnSink): number {
  const env: CheckEnv = { mem, checker, warn };
  checker.preRead(argAddr, 8, `${PRIVCMD_SITE} op)`);
  const raw = mem.read(argAddr, 48);
  if (!raw) return -EFAULT;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const op = Number(dv.getBigUint64(0, true));
  const args = [0, 1, 2, 3, 4].map((i) => dv.getBigUint64(8 + 8 * i, true));
  const decl = hypercallByNumber(op);
  if (decl) {
    decl.args.forEach((a, i) => { if (i < 5) checker.preRead(argAddr + 8 + 8 * i, 8, `${PRIVCMD_SITE} ${decl.name} ${a})`); });
  }
  const call = preHypercall(op, args, env, PRIVCMD_SITE);
  const result = hv.hypercall(op, args, mem);
  call.post(result);
  return Number(result);
}
