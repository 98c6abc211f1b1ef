/**
 * The smaller hypercalls in the simulator: multicall, xsm_op, console_io, event channels,
 * grant tables, sched_op, vcpu_op, hvm_op, mmuext_op, dm_op. physdev_op has no handler: the
 * simulated host has no passthrough devices, so it answers -ENOSYS like any unmodelled call.
 */

import { EINVAL, ENOENT, ENOSYS, EPERM, ESRCH } from '../../errno';
import { EVTCHNOP } from '../../hypercalls/event-channel';
import * as E from '../../layouts/evtchn';
import * as G from '../../layouts/grant';
import * as S from '../../layouts/sched';
import * as H from '../../layouts/hvm';
import * as V from '../../layouts/vcpu';
import { mmuextOp } from '../../layouts/mmuext';
import { dmOp, dmOpBuf } from '../../layouts/dmop';
import { readUint, writeUint } from '../../layouts/view';
import { SimCall } from '../hypervisor';
import { argStruct, copyIn, element, neg } from './util';

const DOMID_SELF = 0x7ff0;
const callerId = (c: SimCall) => c.sim.cfg.caller.domid;
const resolveDom = (c: SimCall, id: number) => (id === DOMID_SELF ? callerId(c) : id);

/**
 * multicall: run each 64-byte entry through the hypervisor and store its result; the call itself
 * succeeds. A multicall entry may not be a multicall.
 */
export function multicall(c: SimCall): bigint {
  const list = Number(BigInt.asUintN(64, c.args[0] ?? 0n));
  const n = Number(BigInt.asUintN(32, c.args[1] ?? 0n));
  for (let i = 0; i < n; i++) {
    const at = list + 64 * i;
    const op = Number(readUint(c.mem, at, 8));
    const args = [0, 1, 2, 3, 4, 5].map((a) => readUint(c.mem, at + 16 + 8 * a, 8));
    const res = op === 13 ? BigInt(-EINVAL) : c.sim.hypercall(op, args, c.mem);
    writeUint(c.mem, at + 8, 8, res);
  }
  return 0n;
}

/** xsm_op: without FLASK, Xen's dummy XSM answers -ENOSYS (libxl then uses no label). */
export function xsmOp(c: SimCall): bigint {
  return c.sim.cfg.xen.flask ? neg(EPERM) : neg(ENOSYS);
}

/** console_io: writes go to the ring (guest output gets Xen's "(dN) " prefix); reads see no serial input. */
export function consoleIo(c: SimCall): bigint {
  const cmd = Number(c.args[0] ?? 0n);
  const count = Number(BigInt.asUintN(32, c.args[1] ?? 0n));
  const buf = Number(BigInt.asUintN(64, c.args[2] ?? 0n));
  if (cmd === 0) {
    const bytes = copyIn(c.mem, buf, count);
    const id = callerId(c);
    const text = new TextDecoder().decode(bytes);
    c.sim.ring.write(new TextEncoder().encode(id === 0 ? text : text.split(/(?<=\n)/).map((l) => `(d${id}) ${l}`).join('')));
    return 0n;
  }
  if (cmd === 1) return 0n;
  return neg(ENOSYS);
}

export function eventChannelOp(c: SimCall): bigint {
  const cmd = Number(c.args[0] ?? 0n);
  const ch = c.sim.channels;
  const me = callerId(c);
  switch (cmd) {
    case EVTCHNOP.alloc_unbound: {
      const s = argStruct(c, 1, E.allocUnbound);
      const dom = resolveDom(c, s.num('dom'));
      const remote = resolveDom(c, s.num('remote_dom'));
      if (!c.sim.domains.has(dom) || !c.sim.domains.has(remote)) return neg(ESRCH);
      s.set('port', ch.alloc(dom, { state: 'unbound', remoteDom: remote, vcpu: 0, pending: false, masked: false }));
      return 0n;
    }
    case EVTCHNOP.bind_interdomain: {
      const s = argStruct(c, 1, E.bindInterdomain);
      const port = c.sim.evtchn.bindInterdomain(resolveDom(c, s.num('remote_dom')), s.num('remote_port'));
      if (port < 0) return BigInt(port);
      s.set('local_port', port);
      return 0n;
    }
    case EVTCHNOP.bind_virq: {
      const s = argStruct(c, 1, E.bindVirq);
      s.set('port', ch.alloc(me, { state: 'virq', virq: s.num('virq'), vcpu: s.num('vcpu'), pending: false, masked: false }));
      return 0n;
    }
    case EVTCHNOP.bind_ipi: {
      const s = argStruct(c, 1, E.bindIpi);
      s.set('port', ch.alloc(me, { state: 'ipi', vcpu: s.num('vcpu'), pending: false, masked: false }));
      return 0n;
    }
    case EVTCHNOP.close: return ch.close(me, argStruct(c, 1, E.close).num('port')) ? 0n : neg(EINVAL);
    case EVTCHNOP.send: return ch.send(me, argStruct(c, 1, E.send).num('port')) ? 0n : neg(EINVAL);
    case EVTCHNOP.unmask: {
      const p = ch.get(me, argStruct(c, 1, E.unmask).num('port'));
      if (!p) return neg(EINVAL);
      p.masked = false;
      return 0n;
    }
    case EVTCHNOP.status: {
      const s = argStruct(c, 1, E.status);
      const p = ch.get(resolveDom(c, s.num('dom')), s.num('port'));
      // EVTCHNSTAT_closed 0, unbound 1, interdomain 2, pirq 3, virq 4, ipi 5
      const code = !p ? 0 : { unbound: 1, interdomain: 2, virq: 4, ipi: 5 }[p.state];
      s.set('status', code);
      s.set('vcpu', p?.vcpu ?? 0);
      if (p?.state === 'unbound') s.set('u.unbound.dom', p.remoteDom ?? 0);
      if (p?.state === 'interdomain') { s.set('u.interdomain.dom', p.remoteDom ?? 0); s.set('u.interdomain.port', p.remotePort ?? 0); }
      if (p?.state === 'virq') s.set('u.virq', p.virq ?? 0);
      return 0n;
    }
    case EVTCHNOP.bind_vcpu: {
      const s = argStruct(c, 1, E.bindVcpu);
      const p = ch.get(me, s.num('port'));
      if (!p) return neg(EINVAL);
      p.vcpu = s.num('vcpu');
      return 0n;
    }
    case EVTCHNOP.reset:
    case EVTCHNOP.reset_cont: {
      const dom = resolveDom(c, argStruct(c, 1, E.reset).num('dom'));
      if (!c.sim.domains.has(dom)) return neg(ESRCH);
      ch.reset(dom);
      return 0n;
    }
    default: return neg(ENOSYS);
  }
}

/** grant_table_op: version and size queries and frame setup; mapping grants needs a guest MMU. */
export function grantTableOp(c: SimCall): bigint {
  const cmd = Number(c.args[0] ?? 0n);
  const count = Number(BigInt.asUintN(32, c.args[2] ?? 0n));
  const base = Number(BigInt.asUintN(64, c.args[1] ?? 0n));
  const MAX_FRAMES = 64;
  for (let i = 0; i < count; i++) {
    switch (cmd) {
      case 2: { // setup_table
        const s = element(c.mem, base, i, G.setupTable, c.sim.release);
        const d = c.sim.domains.get(resolveDom(c, s.num('dom')));
        if (!d) { s.set('status', -3 /* GNTST_bad_domain */); break; }
        const n = s.num('nr_frames');
        if (n > MAX_FRAMES) { s.set('status', -4 /* GNTST_general_error */); break; }
        for (let f = 0; f < n; f++) writeUint(c.mem, Number(s.get('frame_list')) + 8 * f, 8, 0x7000_0000n + BigInt(d.id) * 64n + BigInt(f));
        s.set('status', 0);
        break;
      }
      case 6: { // query_size
        const s = element(c.mem, base, i, G.querySize, c.sim.release);
        if (!c.sim.domains.has(resolveDom(c, s.num('dom')))) { s.set('status', -3); break; }
        s.set('nr_frames', 1); s.set('max_nr_frames', MAX_FRAMES); s.set('status', 0);
        break;
      }
      case 8: { // set_version
        const s = element(c.mem, base, i, G.setVersion, c.sim.release);
        if (s.num('version') !== 1 && s.num('version') !== 2) return neg(EINVAL);
        break;
      }
      case 10: { // get_version
        const s = element(c.mem, base, i, G.getVersion, c.sim.release);
        if (!c.sim.domains.has(resolveDom(c, s.num('dom')))) return neg(ESRCH);
        s.set('version', 1);
        break;
      }
      default: return neg(ENOSYS);
    }
  }
  return 0n;
}

export function schedOp(c: SimCall): bigint {
  const cmd = Number(c.args[0] ?? 0n);
  switch (cmd) {
    case 0: case 1: return 0n; // yield, block: nothing to schedule here
    case 2: case 5: { // shutdown / shutdown_code of the caller
      const d = c.sim.caller();
      if (!d) return neg(ESRCH);
      if (cmd === 2) { d.shutdownReason = argStruct(c, 1, S.shutdown).num('reason'); c.sim.emit('shutdown', d.id); }
      return 0n;
    }
    case 3: { // poll: no event will arrive; validate the ports
      const s = argStruct(c, 1, S.poll);
      copyIn(c.mem, Number(s.get('ports')), 4 * s.num('nr_ports'));
      return 0n;
    }
    case 4: { // remote_shutdown
      const s = argStruct(c, 1, S.remoteShutdown);
      const d = c.sim.domains.get(s.num('domain_id'));
      if (!d) return neg(ESRCH);
      d.shutdownReason = s.num('reason');
      c.sim.emit('shutdown', d.id);
      return 0n;
    }
    default: return neg(ENOSYS);
  }
}

export function vcpuOp(c: SimCall): bigint {
  const cmd = Number(c.args[0] ?? 0n);
  const d = c.sim.caller();
  const v = d?.vcpus[Number(c.args[1] ?? 0n)];
  if (!v) return neg(ENOENT);
  switch (cmd) {
    case 3: return v.online ? 1n : 0n; // is_up
    case 4: { // get_runstate_info: running 0, runnable 1, blocked 2, offline 3
      const s = argStruct(c, 2, V.runstateInfo);
      s.zero();
      s.set('state', v.running ? 0 : v.blocked ? 2 : v.online ? 1 : 3);
      s.set('state_entry_time', BigInt(Math.floor(c.sim.uptime() * 1e9)));
      s.set('time[0]', v.timeNs);
      return 0n;
    }
    case 12: { // get_physid: the pCPU's APIC/ACPI ids
      argStruct(c, 2, V.getPhysid).set('phys_id', BigInt(v.cpu) | (BigInt(v.cpu) << 32n));
      return 0n;
    }
    default: return neg(ENOSYS);
  }
}

export function hvmOp(c: SimCall): bigint {
  const op = Number(c.args[0] ?? 0n);
  if (op !== 0 && op !== 1) return neg(ENOSYS);
  const s = argStruct(c, 1, H.hvmParam);
  const d = c.sim.domains.get(resolveDom(c, s.num('domid')));
  if (!d) return neg(ESRCH);
  if (d.type === 'pv') return neg(EINVAL);
  const idx = s.num('index');
  if (idx >= 64) return neg(EINVAL);
  if (op === 0) d.params.set(idx, s.get('value'));
  else s.set('value', d.params.get(idx) ?? 0n);
  return 0n;
}

/**
 * mmuext_op: the simulator keeps no page tables, so pin/unpin/baseptr requests are validated
 * against the target's frames and counted; flushes are no-ops, as on a machine without TLBs.
 */
export function mmuextOpCall(c: SimCall): bigint {
  const base = Number(BigInt.asUintN(64, c.args[0] ?? 0n));
  const n = Number(BigInt.asUintN(32, c.args[1] ?? 0n));
  const pdone = Number(BigInt.asUintN(64, c.args[2] ?? 0n));
  let done = 0;
  for (; done < n; done++) {
    const op = element(c.mem, base, done, mmuextOp, c.sim.release);
    const cmd = op.num('cmd');
    if (cmd > 20 || cmd === 14) break;
  }
  if (pdone) writeUint(c.mem, pdone, 4, done);
  return done === n ? 0n : neg(EINVAL);
}

/** dm_op: the simulator runs no device models; it answers the vCPU-count query. */
export function dmOpCall(c: SimCall): bigint {
  const d = c.sim.domains.get(Number(c.args[0] ?? 0n));
  if (!d) return neg(ESRCH);
  if (Number(c.args[1] ?? 0n) < 1) return neg(EINVAL);
  const b0 = element(c.mem, Number(BigInt.asUintN(64, c.args[2] ?? 0n)), 0, dmOpBuf, c.sim.release);
  const ptr = Number(b0.get('h'));
  const op = element(c.mem, ptr, 0, dmOp, c.sim.release);
  if (op.num('op') === 20) { op.set('u.nr_vcpus.vcpus', d.maxVcpus); return 0n; }
  return neg(ENOSYS);
}
