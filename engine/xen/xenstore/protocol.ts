/**
 * The xenstore wire protocol (xen/include/public/io/xs_wire.h): a 16-byte little-endian header
 * `{u32 type; u32 req_id; u32 tx_id; u32 len}` followed by `len` payload bytes.
 */

export const XS = {
  CONTROL: 0, DIRECTORY: 1, READ: 2, GET_PERMS: 3, WATCH: 4, UNWATCH: 5, TRANSACTION_START: 6,
  TRANSACTION_END: 7, INTRODUCE: 8, RELEASE: 9, GET_DOMAIN_PATH: 10, WRITE: 11, MKDIR: 12, RM: 13,
  SET_PERMS: 14, WATCH_EVENT: 15, ERROR: 16, IS_DOMAIN_INTRODUCED: 17, RESUME: 18, SET_TARGET: 19,
  RESET_WATCHES: 21, DIRECTORY_PART: 22,
} as const;
/** XS_DEBUG is the old name of XS_CONTROL. */
export const XS_DEBUG = XS.CONTROL;

export const TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(XS).map(([k, v]) => [v, k]));

export const HEADER_SIZE = 16;
export const PAYLOAD_MAX = 4096;
export const ABS_PATH_MAX = 3072;
export const REL_PATH_MAX = 2048;

/** The error names clients understand (xsd_errors[]). */
export type XsError = 'EINVAL' | 'EACCES' | 'EEXIST' | 'EISDIR' | 'ENOENT' | 'ENOMEM' | 'ENOSPC' | 'EIO' | 'ENOTEMPTY'
  | 'ENOSYS' | 'EROFS' | 'EBUSY' | 'EAGAIN' | 'EISCONN' | 'E2BIG' | 'EPERM';

export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Uint8Array;
}

/** Serialise a message. */
export function encode(m: XsMessage): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + m.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, m.type, true);
  dv.setUint32(4, m.reqId >>> 0, true);
  dv.setUint32(8, m.txId >>> 0, true);
  dv.setUint32(12, m.payload.length, true);
  out.set(m.payload, HEADER_SIZE);
  return out;
}

/** Parse one message from the front of `buf`, or undefined if it is not complete yet. */
export function decode(buf: Uint8Array): { msg: XsMessage; used: number } | undefined {
  if (buf.length < HEADER_SIZE) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = dv.getUint32(12, true);
  if (buf.length < HEADER_SIZE + len) return undefined;
  return {
    msg: { type: dv.getUint32(0, true), reqId: dv.getUint32(4, true), txId: dv.getUint32(8, true), payload: buf.slice(HEADER_SIZE, HEADER_SIZE + len) },
    used: HEADER_SIZE + len,
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** NUL-separated strings (`a\0b\0`), the shape of most payloads. */
export function strings(...parts: string[]): Uint8Array {
  return enc.encode(parts.map((p) => p + '\0').join(''));
}
/** Split a payload at NULs; a trailing NUL does not yield an empty last element. */
export function split(payload: Uint8Array): string[] {
  const s = dec.decode(payload);
  const parts = s.split('\0');
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
export function text(b: Uint8Array): string {
  return dec.decode(b);
}
export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}
