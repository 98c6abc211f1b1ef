/** Errno values (Xen's equal Linux x86's for everything used here; reference §1.2). */
export const EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EBADF = 9,
  EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19,
  EINVAL = 22, ENOSPC = 28, EROFS = 30, ENOTTY = 25, ENOSYS = 38, ENOTEMPTY = 39, EOPNOTSUPP = 95,
  ENOBUFS = 105, EISCONN = 106, EISDIR = 21;

/** True when a hypercall/ioctl result is an error (Linux's -4095..-1 window). */
export function isError(res: bigint | number): boolean {
  const r = BigInt(res);
  return r < 0n && r >= -4095n;
}
