/**
 * The host's standard descriptors at exit. A guest that closes its stdout or stderr (coreutils'
 * close_stdout, sed, gzip) closes the host's, since guest fds 0–2 are the host's; the native
 * libraries loaded into Node then fail to flush them on the way out (koffi prints "Failed to
 * sync '<stdout>'"). Pointing a closed one at /dev/null before exiting keeps that line out of
 * the program's output, as the native run has none.
 */
import * as fs from 'fs';
import { hostSyscall } from './libc';

const DUP2 = 33;

/** Reopens stdout and stderr on /dev/null if they are closed. */
export function refillClosedStdio(): void {
  for (const fd of [1, 2]) {
    try {
      fs.fstatSync(fd);
      continue;
    } catch {
      // Closed (EBADF): fill it below.
    }
    try {
      const n = fs.openSync('/dev/null', 'w');
      if (n !== fd) {
        hostSyscall(DUP2, n, fd);
        fs.closeSync(n);
      }
    } catch {
      // Nothing more to do on the way out.
    }
  }
}
