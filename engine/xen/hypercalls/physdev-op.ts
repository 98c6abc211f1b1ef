/** physdev_op (hypercall 33): `physdev_op(cmd, arg)`. */

import { HypercallDecl } from './decl';
import { IN, op, OUT, SELECT, WHEN } from './helpers';
import * as P from '../layouts/physdev';
import { StructType } from '../layouts/ctypes';

const at = (type: StructType) => ({ root: { arg: 1, type } });
const msi = [IN('bus', 'devfn', 'entry_nr', 'table_base')];

export const physdevOpDecl: HypercallDecl = {
  nr: 33,
  name: 'physdev_op',
  args: ['cmd', 'arg'],
  shape: { kind: 'arg', arg: 0 },
  subops: [
    op('irq_status_query', 5, [IN('irq'), OUT('flags')], at(P.irqStatusQuery)),
    op('eoi', 12, [IN('irq')], at(P.eoi)),
    op('map_pirq', 13, [IN('domid', 'type', 'index', 'pirq'), OUT('pirq'), SELECT('type', {
      0: ['MSI', msi],
      1: ['GSI', []],
      2: ['UNKNOWN', []],
      3: ['MSI_SEG', msi],
      4: ['MULTI_MSI', [...msi, OUT('entry_nr')]],
    })], at(P.mapPirq)),
    op('unmap_pirq', 14, [IN('domid', 'pirq')], at(P.unmapPirq)),
    op('manage_pci_add', 15, [IN('bus', 'devfn')], at(P.manageP)),
    op('manage_pci_remove', 16, [IN('bus', 'devfn')], at(P.manageP)),
    op('setup_gsi', 21, [IN('gsi', 'triggering', 'polarity')], at(P.setupGsi)),
    op('get_free_pirq', 23, [IN('type'), OUT('pirq')], at(P.getFreePirq)),
    op('pci_device_add', 25, [IN('seg', 'bus', 'devfn', 'flags'), WHEN('flags', 1, [IN('physfn')])], at(P.pciDeviceAdd)),
    op('pci_device_remove', 26, [IN('seg', 'bus', 'devfn')], at(P.pciDevice)),
    op('restore_msi_ext', 27, [IN('seg', 'bus', 'devfn')], at(P.pciDevice)),
    op('prepare_msix', 30, [IN('seg', 'bus', 'devfn')], at(P.pciDevice)),
    op('release_msix', 31, [IN('seg', 'bus', 'devfn')], at(P.pciDevice)),
  ],
};
