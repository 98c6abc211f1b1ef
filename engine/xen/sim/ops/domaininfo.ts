/** `xen_domctl_getdomaininfo` as Xen's getdomaininfo() fills it. */

import { StructRef } from '../../layouts/view';
import { Domain } from '../state';

/** Fill a domain-info record (zeroed first, as Xen memsets it). */
export function fillDomainInfo(info: StructRef, d: Domain): void {
  info.zero();
  info.set('domain', d.id);
  info.set('flags', d.flags());
  info.set('tot_pages', d.totPages);
  info.set('max_pages', d.maxPages);
  info.set('outstanding_pages', d.outstandingPages);
  info.set('shr_pages', 0);
  info.set('paged_pages', 0);
  info.set('shared_info_frame', d.sharedInfoFrame);
  info.set('cpu_time', d.cpuTimeNs());
  info.set('nr_online_vcpus', d.onlineVcpus());
  info.set('max_vcpu_id', d.maxVcpuId());
  info.set('ssidref', d.ssidref);
  info.setBytes('handle', d.handle);
  info.set('cpupool', d.cpupool);
  // Guest physical address width: 52 bits for HVM/PVH, PV guests see the host's (here 44).
  info.set('gpaddr_bits', d.type === 'pv' ? 44 : 52);
  if (d.type !== 'pv' && info.has('arch_config.emulation_flags')) info.set('arch_config.emulation_flags', d.type === 'hvm' ? 0x7ff : 0x1);
}
