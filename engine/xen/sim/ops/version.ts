/** xen_version (17) in the simulator, with Xen 4.17's XSM dummy-policy permissions. */

import { EINVAL, ENOBUFS, ENOSYS, EPERM } from '../../errno';
import { XENVER } from '../../hypercalls/xen-version';
import * as V from '../../layouts/version';
import { SimCall } from '../hypervisor';
import { argStruct, copyOut, cString, neg } from './util';

/** Sub-ops an unprivileged domain may not use (XSM_PRIV in the dummy policy: commandline and unknown ones). */
function permitted(c: SimCall, cmd: number): boolean {
  const privileged = c.sim.cfg.caller.domid === 0;
  return privileged || cmd <= XENVER.build_id && cmd !== XENVER.commandline;
}

export function xenVersion(c: SimCall): bigint {
  const cmd = Number(BigInt.asUintN(32, c.args[0] ?? 0n));
  const x = c.sim.cfg.xen;
  if (cmd > XENVER.build_id) return neg(ENOSYS);
  if (!permitted(c, cmd)) return neg(EPERM);
  const out = Number(BigInt.asUintN(64, c.args[1] ?? 0n));
  switch (cmd) {
    case XENVER.version: return BigInt((x.major << 16) | x.minor);
    case XENVER.extraversion: copyOut(c.mem, out, cString(x.extra, 16)); return 0n;
    case XENVER.compile_info: {
      const s = argStruct(c, 1, V.compileInfo);
      s.setBytes('compiler', cString(x.compiler, 64));
      s.setBytes('compile_by', cString(x.compileBy, 16));
      s.setBytes('compile_domain', cString(x.compileDomain, 32));
      s.setBytes('compile_date', cString(x.compileDate, 32));
      return 0n;
    }
    case XENVER.capabilities: copyOut(c.mem, out, cString(x.capabilities, 1024)); return 0n;
    case XENVER.changeset: copyOut(c.mem, out, cString(x.changeset, 64)); return 0n;
    case XENVER.platform_parameters: argStruct(c, 1, V.platformParameters).set('virt_start', BigInt(x.virtStart)); return 0n;
    case XENVER.get_features: {
      const s = argStruct(c, 1, V.featureInfo);
      const idx = s.num('submap_idx');
      if (idx >= 1) return neg(EINVAL);
      s.set('submap', x.features);
      return 0n;
    }
    case XENVER.pagesize: return 4096n;
    case XENVER.guest_handle: copyOut(c.mem, out, c.sim.caller()?.handle ?? new Uint8Array(16)); return 0n;
    case XENVER.commandline: copyOut(c.mem, out, cString(x.commandline, 1024)); return 0n;
    case XENVER.build_id: {
      const id = Uint8Array.from((x.buildId.match(/../g) ?? []).map((b) => parseInt(b, 16)));
      const s = argStruct(c, 1, V.buildId);
      if (s.num('len') < id.length) return neg(ENOBUFS);
      copyOut(c.mem, out + 4, id);
      return BigInt(id.length);
    }
    default: return neg(ENOSYS);
  }
}
