/** physdev_op (hypercall 33) argument structs. */

import { f, struct } from './ctypes';

export const mapPirq = struct('struct physdev_map_pirq', [
  f('domid', 'u16'), f('type', 'i32'), f('index', 'i32'), f('pirq', 'i32'), f('bus', 'i32'), f('devfn', 'i32'), f('entry_nr', 'i32'), f('table_base', 'u64'),
]);
export const unmapPirq = struct('struct physdev_unmap_pirq', [f('domid', 'u16'), f('pirq', 'i32')]);
export const eoi = struct('struct physdev_eoi', [f('irq', 'u32')]);
export const irqStatusQuery = struct('struct physdev_irq_status_query', [f('irq', 'u32'), f('flags', 'u32')]);
export const setupGsi = struct('struct physdev_setup_gsi', [f('gsi', 'i32'), f('triggering', 'u8'), f('polarity', 'u8')]);
export const getFreePirq = struct('struct physdev_get_free_pirq', [f('type', 'i32'), f('pirq', 'u32')]);
export const pciDeviceAdd = struct('struct physdev_pci_device_add', [f('seg', 'u16'), f('bus', 'u8'), f('devfn', 'u8'), f('flags', 'u32'), f('physfn', struct('', [f('bus', 'u8'), f('devfn', 'u8')]))]);
export const pciDevice = struct('struct physdev_pci_device', [f('seg', 'u16'), f('bus', 'u8'), f('devfn', 'u8')]);
export const manageP = struct('struct physdev_manage_pci', [f('bus', 'u8'), f('devfn', 'u8')]);
