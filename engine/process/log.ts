/** Where unigrind's own messages go (stderr by default, or --log-file), each line prefixed "==PID== " as Valgrind does. */
import * as fs from 'fs';

export class Log {
  /** Our own duplicate of the destination fd, so a guest that closes its fd 2 does not silence us. */
  constructor(readonly fd: number, readonly pid: number) {}

  /** Writes each line of text with the ==PID== prefix. */
  line(text = ''): void {
    const lines = text.split('\n').map((l) => `==${this.pid}== ${l}`);
    this.raw(lines.join('\n') + '\n');
  }

  /** Writes text as it is. */
  raw(text: string): void {
    const b = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < b.length) {
      try {
        off += fs.writeSync(this.fd, b, off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        return;
      }
    }
  }
}
