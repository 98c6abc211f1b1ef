/** console_io (hypercall 18): `console_io(cmd, count, buffer)`. */

import { HypercallDecl } from './decl';
import { BUF, op } from './helpers';

export const CONSOLEIO = { write: 0, read: 1 } as const;

export const consoleIoDecl: HypercallDecl = {
  nr: 18,
  name: 'console_io',
  args: ['cmd', 'count', 'buffer'],
  shape: { kind: 'arg', arg: 0 },
  subops: [
    op('write', 0, [BUF({ ptr: { arg: 2 }, elem: 1, count: { arg: 1 }, dir: 'in', name: 'buffer' })]),
    // read returns the number of bytes copied.
    op('read', 1, [BUF({ ptr: { arg: 2 }, elem: 1, count: { arg: 1 }, postCount: { result: true }, dir: 'out', name: 'buffer' })]),
  ],
};
