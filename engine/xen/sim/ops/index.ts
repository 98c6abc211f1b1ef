/** The simulator's handler table, by hypercall number. */

import { HC } from '../../hypercalls/registry';
import { SimCall } from '../hypervisor';
import { sysctl } from './sysctl';
import { domctl } from './domctl';
import { xenVersion } from './version';
import { memoryOp } from './memory';
import * as misc from './misc';

export const HANDLERS: Readonly<Record<number, (c: SimCall) => bigint>> = {
  [HC.sysctl]: sysctl,
  [HC.domctl]: domctl,
  [HC.xen_version]: xenVersion,
  [HC.memory_op]: memoryOp,
  [HC.multicall]: misc.multicall,
  [HC.xsm_op]: misc.xsmOp,
  [HC.console_io]: misc.consoleIo,
  [HC.event_channel_op]: misc.eventChannelOp,
  [HC.grant_table_op]: misc.grantTableOp,
  [HC.sched_op]: misc.schedOp,
  [HC.vcpu_op]: misc.vcpuOp,
  [HC.hvm_op]: misc.hvmOp,
  [HC.mmuext_op]: misc.mmuextOpCall,
  [HC.dm_op]: misc.dmOpCall,
};
