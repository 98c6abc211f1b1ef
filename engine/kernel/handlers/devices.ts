/**
 * Paths the engine serves itself (Xen's device nodes, the xenstored socket, /proc/xen files):
 * what stat/access say about them, connect() to an engine socket, and the contract for mmap of
 * an engine file. The kernel only sees the generic `EngineDevices`; which paths exist and what
 * they do is the registry's business (engine/xen-wiring for Xen). Every other path goes to the
 * host unchanged.
 */
import { preReadSockaddr } from '../sockaddr-check';
import * as path from 'path';
import { hostSyscall, HostChunk } from '../../host/libc';
import type { GuestProcess } from '../../process/guest-process';
import { E } from '../errno';
import type { DeviceRegistry, VirtualFile } from '../fd-table';
import type { SyscallContext } from '../syscall-context';

/** What an engine-served path is, as stat(2) reports it. */
export interface DeviceNode {
  readonly type: 'chr' | 'sock' | 'dir' | 'file';
  /** Device number of a character device. */
  readonly rdev?: { readonly major: number; readonly minor: number };
  /** st_size (files). */
  readonly size?: number;
}

/** A device registry that also answers stat/access and AF_UNIX connect for its paths. */
export interface EngineDevices extends DeviceRegistry {
  /** The node at absolute, normalised `path`, or undefined when the path is not the engine's. */
  node(path: string): DeviceNode | undefined;
  /**
   * connect() of an AF_UNIX stream socket to `path`: the file that replaces the socket, a
   * negative errno, or undefined when the path is not the engine's (the host connects).
   */
  connect(path: string): VirtualFile | number | undefined;
}

/**
 * mmap of an engine file at guest [start, start+len): one host chunk for the whole range, one
 * chunk per page (pages shared with something else, e.g. Xen frames), or a negative errno.
 */
export type DeviceMmap = (len: number, offset: number, start: number, prot: number) => HostChunk | readonly HostChunk[] | number;

/** The process's registry when it answers paths (not just open()). */
export function engineDevices(proc: GuestProcess): EngineDevices | undefined {
  const d = proc.devices;
  return d && 'node' in d && 'connect' in d ? (d as EngineDevices) : undefined;
}

const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const S_IFSOCK = 0o140000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const R_OK = 4;
const W_OK = 2;
const X_OK = 1;

/** Type bits and permissions of each kind of node; nodes belong to the calling user, like a dom0's root-owned nodes to root. */
const MODES: Record<DeviceNode['type'], number> = {
  chr: S_IFCHR | 0o600,
  sock: S_IFSOCK | 0o600,
  dir: S_IFDIR | 0o755,
  file: S_IFREG | 0o444,
};

/** Where each path-probing syscall keeps its arguments, and which answer it wants. */
interface Probe {
  readonly answer: 'stat' | 'statx' | 'access';
  readonly dirfd?: number;
  readonly path?: number;
  /** An fd-only call (fstat). */
  readonly fd?: number;
  readonly buf?: number;
  readonly flags?: number;
  readonly mode?: number;
}
const PROBES: Readonly<Record<string, Probe>> = {
  stat: { answer: 'stat', path: 0, buf: 1 },
  lstat: { answer: 'stat', path: 0, buf: 1 },
  fstat: { answer: 'stat', fd: 0, buf: 1 },
  newfstatat: { answer: 'stat', dirfd: 0, path: 1, buf: 2, flags: 3 },
  statx: { answer: 'statx', dirfd: 0, path: 1, flags: 2, buf: 4 },
  access: { answer: 'access', path: 0, mode: 1 },
  faccessat: { answer: 'access', dirfd: 0, path: 1, mode: 2 },
  faccessat2: { answer: 'access', dirfd: 0, path: 1, mode: 2, flags: 3 },
};

/** Stable inode numbers per path, so repeated stats agree (libraries compare st_ino/st_dev). */
function inode(p: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193) >>> 0;
  return h || 1;
}

/** glibc's makedev encoding. */
function makedev(major: number, minor: number): bigint {
  const M = BigInt(major);
  const m = BigInt(minor);
  return (m & 0xffn) | ((M & 0xfffn) << 8n) | ((m & ~0xffn) << 12n) | ((M & ~0xfffn) << 32n);
}

/** devtmpfs for /dev, proc for /proc, sysfs for /sys, tmpfs for /run: what the host would show. */
function fsDevice(p: string): { major: number; minor: number } {
  if (p.startsWith('/dev/')) return { major: 0, minor: 5 };
  if (p.startsWith('/proc/')) return { major: 0, minor: 22 };
  if (p.startsWith('/sys/')) return { major: 0, minor: 21 };
  return { major: 0, minor: 25 };
}

/** Everything stat and statx report about a node. */
interface NodeStat {
  mode: number; ino: number; dev: { major: number; minor: number }; rdev: { major: number; minor: number };
  uid: number; gid: number; size: number; nlink: number; time: number;
}

const started = Math.floor(Date.now() / 1000);

function describe(p: string, n: DeviceNode): NodeStat {
  return {
    mode: MODES[n.type], ino: inode(p), dev: fsDevice(p), rdev: n.rdev ?? { major: 0, minor: 0 },
    uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, size: n.size ?? 0,
    nlink: n.type === 'dir' ? 2 : 1, time: started,
  };
}

/** struct stat (amd64, 144 bytes). */
function statBytes(s: NodeStat): Uint8Array {
  const b = new Uint8Array(144);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, makedev(s.dev.major, s.dev.minor), true);
  dv.setBigUint64(8, BigInt(s.ino), true);
  dv.setBigUint64(16, BigInt(s.nlink), true);
  dv.setUint32(24, s.mode, true);
  dv.setUint32(28, s.uid, true);
  dv.setUint32(32, s.gid, true);
  dv.setBigUint64(40, makedev(s.rdev.major, s.rdev.minor), true);
  dv.setBigInt64(48, BigInt(s.size), true);
  dv.setBigInt64(56, 4096n, true);
  dv.setBigInt64(64, BigInt(Math.ceil(s.size / 512)), true);
  for (const off of [72, 88, 104]) dv.setBigInt64(off, BigInt(s.time), true);
  return b;
}

/** struct statx (256 bytes), with the basic-stats mask. */
function statxBytes(s: NodeStat): Uint8Array {
  const b = new Uint8Array(256);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x7ff /* STATX_BASIC_STATS */, true);
  dv.setUint32(4, 4096, true);
  dv.setUint32(16, s.nlink, true);
  dv.setUint32(20, s.uid, true);
  dv.setUint32(24, s.gid, true);
  dv.setUint16(28, s.mode, true);
  dv.setBigUint64(32, BigInt(s.ino), true);
  dv.setBigUint64(40, BigInt(s.size), true);
  dv.setBigUint64(48, BigInt(Math.ceil(s.size / 512)), true);
  for (const off of [64, 80, 96, 112]) dv.setBigInt64(off, BigInt(s.time), true);
  dv.setUint32(128, s.rdev.major, true);
  dv.setUint32(132, s.rdev.minor, true);
  dv.setUint32(136, s.dev.major, true);
  dv.setUint32(140, s.dev.minor, true);
  return b;
}

/** access(2) against the node's mode bits, for its owner. */
function accessCheck(n: DeviceNode, mode: number): number {
  const perm = (MODES[n.type] >> 6) & 7;
  const want = mode & (R_OK | W_OK | X_OK);
  return (perm & want) === want ? 0 : -E.EACCES;
}

/**
 * The engine path a path argument names, relative paths resolved against the cwd (the guest's
 * cwd is the host process's: chdir goes to the host). Undefined for paths relative to a dirfd.
 */
function absolutePath(ctx: SyscallContext, dirfdArg: number | undefined, p: string): string | undefined {
  if (p.startsWith('/')) return path.posix.normalize(p).replace(/(.)\/$/, '$1');
  if (dirfdArg !== undefined && ctx.int(dirfdArg) !== AT_FDCWD) return undefined;
  return path.posix.normalize(path.posix.join(process.cwd(), p)).replace(/(.)\/$/, '$1');
}

/**
 * stat/lstat/fstat/newfstatat/statx/access/faccessat(2): engine paths and engine fds answer as
 * the node they are; everything else goes to the host.
 */
export function sysProbePath(ctx: SyscallContext): number {
  const probe = PROBES[ctx.decl.name];
  const devs = engineDevices(ctx.proc);
  if (!probe || !devs) return ctx.proc.kernel.passthrough(ctx);
  const { mem, observer } = ctx.proc;
  let where: string | undefined;
  let pathBytes = 0;
  if (probe.fd !== undefined) {
    where = ctx.proc.fds.get(ctx.int(probe.fd))?.virt?.name;
  } else {
    const raw = mem.readCString(ctx.ptr(probe.path!));
    pathBytes = Buffer.byteLength(raw) + 1;
    const flags = probe.flags !== undefined ? ctx.int(probe.flags) : 0;
    if (raw === '' && (flags & AT_EMPTY_PATH) && probe.dirfd !== undefined) where = ctx.proc.fds.get(ctx.int(probe.dirfd))?.virt?.name;
    else where = absolutePath(ctx, probe.dirfd, raw);
  }
  const node = where !== undefined ? devs.node(where) : undefined;
  if (!node || where === undefined) return ctx.proc.kernel.passthrough(ctx);
  // Checked here only when the engine answers: the host passthrough checks its own arguments.
  if (pathBytes) observer.preRead(ctx.decl.name, ctx.what(probe.path!), ctx.ptr(probe.path!), pathBytes, true);
  if (probe.answer === 'access') return accessCheck(node, ctx.int(probe.mode!));
  const bytes = probe.answer === 'stat' ? statBytes(describe(where, node)) : statxBytes(describe(where, node));
  const out = ctx.ptr(probe.buf!);
  if (!mem.isMapped(out, bytes.length)) return -E.EFAULT;
  mem.write(out, bytes);
  observer.postWrite(out, bytes.length);
  return 0;
}

const AF_UNIX = 1;
const SUN_PATH = 2;

/**
 * connect(fd, addr, len): an AF_UNIX connect to an engine socket (the xenstored socket) turns
 * the guest's host socket into the engine's connection; the host socket, created by socket(2)
 * before anyone knew where it would connect, is closed. Other connects go to the host.
 */
export function sysConnect(ctx: SyscallContext): number {
  const devs = engineDevices(ctx.proc);
  const e = ctx.proc.fds.get(ctx.int(0));
  const addr = ctx.ptr(1);
  const len = ctx.int(2);
  if (!devs || !e || e.virt || !addr || len <= SUN_PATH) return ctx.proc.kernel.passthrough(ctx);
  const sa = ctx.proc.mem.read(addr, Math.min(len, 110));
  const family = sa[0] | (sa[1] << 8);
  // An abstract socket (sun_path starting with NUL) is never a file path.
  if (family !== AF_UNIX || sa[SUN_PATH] === 0) return ctx.proc.kernel.passthrough(ctx);
  const nul = sa.indexOf(0, SUN_PATH);
  const sunPath = Buffer.from(sa.subarray(SUN_PATH, nul < 0 ? sa.length : nul)).toString('utf8');
  const where = absolutePath(ctx, undefined, sunPath);
  const conn = where !== undefined ? devs.connect(where) : undefined;
  if (conn === undefined) return ctx.proc.kernel.passthrough(ctx);
  preReadSockaddr(ctx.proc.observer, ctx.proc.mem, 'connect', 'serv_addr', addr, len);
  if (typeof conn === 'number') return conn;
  if (ctx.proc.fds.hostRefs(e.host) === 1) hostSyscall(3 /* close */, e.host);
  ctx.proc.fds.set(ctx.int(0), { host: -1, cloexec: e.cloexec, virt: conn });
  return 0;
}

/** Closes a virtual file when no guest fd refers to it any more (dup shares one file between fds). */
export function releaseVirtual(proc: GuestProcess, v: VirtualFile): void {
  if (!proc.fds.entries().some(([, x]) => x.virt === v)) v.close?.();
}
