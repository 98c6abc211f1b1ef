/**
 * The guest's standard streams while the adapter speaks DAP on its own stdin/stdout: guest fd 0
 * reads /dev/null, fds 1 and 2 write to temporary files that are read back into `output` events.
 *
 * Files rather than pipes because the reader lives in the same thread as the guest: a guest that
 * writes more than a pipe buffer within one time slice would block on a pipe nobody drains.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StringDecoder } from 'string_decoder';
import type { FdTable } from '../engine/kernel/fd-table';
import { hostSyscall } from '../engine/host/libc';

/** Receives what the guest wrote, with the stream it came from. */
export type StdioListener = (text: string, stream: 'stdout' | 'stderr') => void;

const POLL_MS = 50;

/** Captures a guest's stdout and stderr. */
export class GuestStdio {
  private readonly dir: string;
  private readonly streams: { stream: 'stdout' | 'stderr'; fd: number; readFd: number; pos: number; decoder: StringDecoder }[] = [];
  private readonly stdin: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly listener: StdioListener) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-stdio-'));
    this.stdin = fs.openSync('/dev/null', 'r');
    for (const stream of ['stdout', 'stderr'] as const) {
      const file = path.join(this.dir, stream);
      const fd = fs.openSync(file, 'a');
      const readFd = fs.openSync(file, 'r');
      this.streams.push({ stream, fd, readFd, pos: 0, decoder: new StringDecoder('utf8') });
    }
  }

  /**
   * Points guest fds 0, 1, 2 at the capture (before the guest runs). The guest gets copies of the
   * descriptors: a guest that closes its stdout must not close (and free for reuse) ours.
   */
  attach(fds: FdTable): void {
    fds.set(0, { host: dup(this.stdin), cloexec: false });
    fds.set(1, { host: dup(this.streams[0].fd), cloexec: false });
    fds.set(2, { host: dup(this.streams[1].fd), cloexec: false });
    this.timer = setInterval(() => this.flush(), POLL_MS);
  }

  /** Forwards whatever was written since the last call. */
  flush(): void {
    const buf = Buffer.alloc(65536);
    for (const s of this.streams) {
      let text = '';
      for (;;) {
        const n = fs.readSync(s.readFd, buf, 0, buf.length, s.pos);
        if (n <= 0) break;
        s.pos += n;
        text += s.decoder.write(buf.subarray(0, n));
      }
      if (text) this.listener(text, s.stream);
    }
  }

  /** Forwards the rest and removes the files. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    for (const s of this.streams) {
      fs.closeSync(s.fd);
      fs.closeSync(s.readFd);
    }
    fs.closeSync(this.stdin);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function dup(fd: number): number {
  const copy = hostSyscall(72 /* fcntl */, fd, 1030 /* F_DUPFD_CLOEXEC */, 3);
  return copy >= 0 ? copy : fd;
}
