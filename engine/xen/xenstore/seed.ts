/**
 * The xenstore contents a running host would have for the simulator's domains, so xl and the
 * hypervisor agree: what xen-init-dom0 writes for Domain-0, and what libxl writes when it builds
 * a guest (reference §7). Also keeps the store in step with domain lifecycle events.
 */

import { SimHypervisor } from '../sim/hypervisor';
import { Domain } from '../sim/state';
import { Perm } from './tree';
import { XenstoreServer } from './server';

const n0: Perm = { perm: 'n', domid: 0 };

/** `start_time` as libxl writes it: seconds.centiseconds since the epoch. */
function startTime(t: number): string {
  return `${Math.floor(t)}.${String(Math.floor((t % 1) * 100)).padStart(2, '0')}`;
}

/** Nodes for one domain. */
function seedDomain(xs: XenstoreServer, sim: SimHypervisor, d: Domain): void {
  const dom = `/local/domain/${d.id}`;
  // libxl: the domain directory is readable by the domain; its writable subdirectories are owned by it.
  const ro: Perm[] = [n0, { perm: 'r', domid: d.id }];
  const rw: Perm[] = [{ perm: 'n', domid: d.id }];
  if (d.id === 0) {
    // xen-init-dom0 writes domid and name; xenstored made the directory.
    xs.write(`${dom}/domid`, '0');
    if (d.name !== undefined) xs.write(`${dom}/name`, d.name);
  } else {
    const vm = `/vm/${d.uuidText()}`;
    xs.write(dom, '', ro);
    xs.write(`${dom}/domid`, String(d.id));
    if (d.name !== undefined) xs.write(`${dom}/name`, d.name);
    xs.write(`${dom}/vm`, vm);
    for (const sub of ['device', 'control', 'data', 'drivers', 'feature', 'attr', 'error']) xs.write(`${dom}/${sub}`, '', rw);
    xs.write(`${dom}/control/shutdown`, '', rw);
    xs.write(`${dom}/memory/static-max`, String(d.maxPages * 4n));
    xs.write(`${dom}/memory/target`, String(d.totPages * 4n));
    xs.write(`${dom}/memory/videoram`, '-1');
    d.vcpus.forEach((v, i) => xs.write(`${dom}/cpu/${i}/availability`, v.online ? 'online' : 'offline'));
    xs.write(`${dom}/console/tty`, `/dev/pts/${d.id}`);
    xs.write(vm, '', ro);
    xs.write(`${vm}/uuid`, d.uuidText());
    if (d.name !== undefined) xs.write(`${vm}/name`, d.name);
    xs.write(`${vm}/start_time`, startTime(d.startTime));
    xs.write(`${vm}/image/ostype`, d.type === 'pv' ? 'linux' : 'hvm');
    xs.write(`/libxl/${d.id}/type`, d.type);
    xs.write(`/libxl/${d.id}/dm-version`, d.type === 'hvm' ? 'qemu_xen' : '');
  }
  for (const [k, v] of Object.entries(d.xenstore)) xs.write(k.startsWith('/') ? k : `${dom}/${k}`, v);
}

/**
 * Fill a store from the simulator and follow its domain events. Returns the store (a new one
 * unless given).
 */
export function seedXenstore(sim: SimHypervisor, xs = new XenstoreServer()): XenstoreServer {
  xs.write('/local', '', [n0]);
  for (const p of sim.pools.values()) xs.write(`/local/pool/${p.id}/name`, p.name);
  for (const d of sim.sortedDomains()) {
    seedDomain(xs, sim, d);
    if (d.id !== 0) xs.domainIntroduced(d.id);
  }
  for (const [k, v] of Object.entries(sim.cfg.xenstore)) xs.write(k, v);
  sim.onDomainEvent((event, domid) => {
    // xenstored tells @releaseDomain watchers whenever a domain shuts down or disappears; the
    // toolstack then removes the domain's nodes itself.
    if (event === 'shutdown' || event === 'destroyed') xs.domainReleased(domid);
  });
  return xs;
}
