/**
 * engine/xen-wiring: engine/xen (devices, hypercalls, simulated hypervisor and xenstore) plugged
 * into the CPU/memory/syscall engine. See README.md for the design.
 *
 *   const attach = prepareXen({ mode: 'sim', configFile, warn });  // validates options up front
 *   launch(prog, args, env, { ..., devices: attach });               // one fresh host per process
 */
import * as fs from 'fs';
import { HostHypervisor, hostHasXen, warnOnce, XenDevices, XenPath } from '../xen';
import type { WarnSink } from '../xen';
import type { GuestProcess } from '../process/guest-process';
import { freshPages, XenWiring } from './wiring';
import { HostPrivcmdDevice } from './host-privcmd';

export { XenWiring } from './wiring';
export { XenMappings } from './frames';
export { xenGuestMemory, observerChecker } from './context';

/** What the command line asked for. */
export interface XenOptions {
  /** 'sim' or 'host'; undefined: host where the machine has /dev/xen/privcmd, else sim. */
  readonly mode?: 'sim' | 'host';
  /** `--xen-config`: JSON description of the simulated host (sim mode). */
  readonly configFile?: string;
  /** Where warnings go (each distinct one once); default: the process's log, as its other warnings. */
  readonly warn?: WarnSink;
}

/** A bad Xen option (unreadable or inconsistent config, no privcmd for host mode): one line for the user. */
export class XenSetupError extends Error {}

/** The default mode: the real hypervisor when there is one. */
export function defaultXenMode(): 'sim' | 'host' {
  return hostHasXen((p) => fs.existsSync(p)) ? 'host' : 'sim';
}

/**
 * Checks the options and returns what attaches Xen to a new process, or undefined when the
 * process should see the host's own /dev/xen untouched (`--xen=host` on a machine whose privcmd
 * cannot be opened: the program then fails exactly as it does natively). Throws XenSetupError
 * with a message naming the problem. Each process gets its own simulated host, as a program
 * started on a fresh dom0 would.
 */
export function prepareXen(opts: XenOptions): ((proc: GuestProcess) => XenWiring) | undefined {
  const mode = opts.mode ?? defaultXenMode();
  const warnings = (proc: GuestProcess): WarnSink => warnOnce(opts.warn ?? ((m) => proc.opts.log.line(m)));
  if (mode === 'sim') {
    let config: string | undefined;
    if (opts.configFile) {
      try {
        config = fs.readFileSync(opts.configFile, 'utf8');
      } catch (e) {
        throw new XenSetupError(`--xen-config=${opts.configFile}: ${(e as Error).message}`);
      }
    }
    try {
      XenDevices.simulated(config);
    } catch (e) {
      throw new XenSetupError(`--xen-config=${opts.configFile ?? ''}: ${(e as Error).message}`);
    }
    return (proc) => new XenWiring(proc, XenDevices.simulated(config, warnings(proc)));
  }
  const dev = HostPrivcmdDevice.open();
  if (typeof dev === 'string') return undefined;
  return (proc) => {
    const hv = new HostHypervisor(dev, { toHost: (addr, len) => {
      const h = proc.mem.hostAddress(addr, len);
      return h === undefined ? undefined : BigInt(h);
    } });
    const devices = new XenDevices(hv, undefined, warnings(proc), { hypercallDevice: dev.hypercallFd >= 0 });
    return new XenWiring(proc, devices, (file, len, offset) => (file.device === 'hypercall' ? dev.hypercallPages(len) : freshPages(file, len, offset)),
      hostClaims);
  };
}

/** Host mode serves only the devices whose ioctls carry pointers to translate (see host-privcmd.ts). */
function hostClaims(x: XenPath): boolean {
  return x.type === 'chr' && (x.device === 'privcmd' || x.device === 'hypercall');
}
