/** The guest's file descriptor table: guest fd numbers, as Linux hands them out, mapped to host fds or engine devices. */

/** A file that lives inside the engine (Xen devices, the xenstored socket). Unset methods fail as Linux would. */
export interface VirtualFile {
  /** Name for /proc/self/fd and traces. */
  readonly name: string;
  read?(buf: Uint8Array): number;
  write?(data: Uint8Array): number;
  ioctl?(request: number, arg: number): number;
  /** poll(2) readiness for the requested events (POLLIN 1, POLLOUT 4). */
  poll?(events: number): number;
  close?(): void;
}

/** Paths served by the engine (Xen devices): open() returns a VirtualFile, a negative errno, or undefined for "not mine". */
export interface DeviceRegistry {
  open(path: string, flags: number): VirtualFile | number | undefined;
}

/** One open guest descriptor. */
export interface FdEntry {
  /** Host fd (-1 for purely virtual files). */
  host: number;
  cloexec: boolean;
  virt?: VirtualFile;
}

export class FdTable {
  private readonly fds = new Map<number, FdEntry>();

  /** Starts with guest 0, 1, 2 on the host's 0, 1, 2. */
  constructor() {
    for (const fd of [0, 1, 2]) this.fds.set(fd, { host: fd, cloexec: false });
  }

  /** The entry of guest fd, if open. */
  get(fd: number): FdEntry | undefined {
    return this.fds.get(fd);
  }

  /** Installs entry at the lowest free guest fd ≥ min, as open(2) and F_DUPFD choose. */
  add(entry: FdEntry, min = 0): number {
    let fd = Math.max(0, min);
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, entry);
    return fd;
  }

  /** Installs entry at exactly guest fd (dup2), returning the entry it replaced. */
  set(fd: number, entry: FdEntry): FdEntry | undefined {
    const old = this.fds.get(fd);
    this.fds.set(fd, entry);
    return old;
  }

  /** Removes guest fd. */
  remove(fd: number): FdEntry | undefined {
    const e = this.fds.get(fd);
    this.fds.delete(fd);
    return e;
  }

  /** How many guest fds refer to the same host fd (host fds are shared after dup of a virtual wrapper). */
  hostRefs(host: number): number {
    let n = 0;
    for (const e of this.fds.values()) if (e.host === host) n++;
    return n;
  }

  /** Guest fds in order. */
  entries(): Array<[number, FdEntry]> {
    return [...this.fds.entries()].sort((a, b) => a[0] - b[0]);
  }
}
