/**
 * The xenstore tree: nodes with a value, permissions and children, plus the path and permission
 * rules of C xenstored.
 */

import { ABS_PATH_MAX, REL_PATH_MAX, XsError } from './protocol';

/** One permission entry: `n` none, `r` read, `w` write, `b` both, for a domain. */
export interface Perm {
  readonly perm: 'n' | 'r' | 'w' | 'b';
  readonly domid: number;
}

export class XsNode {
  value: Uint8Array = new Uint8Array(0);
  /** First entry: owner and the default for domains not listed. */
  perms: Perm[];
  readonly children = new Map<string, XsNode>();
  /** Global modification counter at the last change of this node (transactions, DIRECTORY_PART). */
  gen: number;
  constructor(perms: Perm[], gen: number) {
    this.perms = perms;
    this.gen = gen;
  }
  /** Deep copy (transactions work on a private copy of the tree). */
  clone(): XsNode {
    const n = new XsNode(this.perms.slice(), this.gen);
    n.value = this.value;
    for (const [k, c] of this.children) n.children.set(k, c.clone());
    return n;
  }
}

/** Parse "n0", "r5" … */
export function parsePerm(s: string): Perm | undefined {
  const m = /^([nrwb])(\d+)$/.exec(s);
  return m ? { perm: m[1] as Perm['perm'], domid: Number(m[2]) } : undefined;
}
export function formatPerm(p: Perm): string {
  return `${p.perm}${p.domid}`;
}

/**
 * Canonical absolute path for a request from domain `domid`, or an error name. Relative paths
 * live under /local/domain/<domid>; `@`-paths are the special watch names.
 */
export function canonical(path: string, domid: number, allowSpecial = false): string | XsError {
  if (allowSpecial && path.startsWith('@')) return /^@[a-zA-Z]+$/.test(path) ? path : 'EINVAL';
  if (!path.startsWith('/')) {
    if (path.length > REL_PATH_MAX) return 'EINVAL';
    path = `/local/domain/${domid}/${path}`;
  }
  if (path.length > ABS_PATH_MAX) return 'EINVAL';
  if (path !== '/' && (path.endsWith('/') || path.includes('//'))) return 'EINVAL';
  if (!/^[A-Za-z0-9\-/_@]*$/.test(path)) return 'EINVAL';
  return path;
}

export function components(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
/** True when `child` is `parent` or below it. */
export function isChild(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(parent + '/');
}

/** Find a node. */
export function lookup(root: XsNode, path: string): XsNode | undefined {
  let n: XsNode | undefined = root;
  for (const c of components(path)) {
    n = n.children.get(c);
    if (!n) return undefined;
  }
  return n;
}

/** The permission `domid` has on a node ('n', 'r', 'w', 'b'); dom0 is privileged. */
export function access(node: XsNode, domid: number, privileged: boolean): Perm['perm'] {
  if (privileged) return 'b';
  const [owner, ...rest] = node.perms;
  if (owner.domid === domid) return 'b';
  return rest.find((p) => p.domid === domid)?.perm ?? owner.perm;
}
export const canRead = (p: Perm['perm']) => p === 'r' || p === 'b';
export const canWrite = (p: Perm['perm']) => p === 'w' || p === 'b';
