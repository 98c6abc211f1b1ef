/**
 * An in-engine xenstored: the store, transactions with conflict detection, watches, and the
 * domain-management requests, speaking the wire protocol to any number of connections.
 *
 * Transactions work on a private copy of the tree and remember the generation of every node
 * they touched; TRANSACTION_END commits by replaying their changes onto the live tree unless one
 * of those nodes changed meanwhile, in which case the client gets EAGAIN and retries (the C
 * xenstored's semantics, at node granularity).
 */

import { bytes, decode, encode, PAYLOAD_MAX, split, strings, text, XS, XsError, XsMessage } from './protocol';
import { access, canonical, canRead, canWrite, formatPerm, isChild, lookup, parentOf, parsePerm, Perm, XsNode, components } from './tree';

type Change =
  | { op: 'write'; path: string; value: Uint8Array }
  | { op: 'mkdir'; path: string }
  | { op: 'rm'; path: string }
  | { op: 'perms'; path: string; perms: Perm[] };

interface Transaction {
  readonly id: number;
  readonly conn: XenstoreConnection;
  readonly root: XsNode;
  /** Path → generation seen (−1: absent) at first access. */
  readonly seen: Map<string, number>;
  readonly log: Change[];
}

interface Watch {
  readonly path: string;
  readonly token: string;
  /** Prefix to strip from event paths (relative watches get relative events). */
  readonly relativeTo: string | undefined;
}

const MAX_TRANSACTIONS = 10;
const MAX_WATCHES = 128;

export class XenstoreServer {
  root: XsNode;
  private gen = 1;
  private nextTx = 1;
  private readonly txs = new Map<number, Transaction>();
  private readonly conns = new Set<XenstoreConnection>();
  /** Domains known to the store: domid → introduced via INTRODUCE (or at start). */
  private readonly introduced = new Set<number>([0]);

  constructor() {
    this.root = new XsNode([{ perm: 'n', domid: 0 }], this.gen);
    // What xenstored creates for itself at start.
    this.applyChange(this.root, { op: 'mkdir', path: '/local/domain/0' }, 0);
    this.applyChange(this.root, { op: 'mkdir', path: '/tool/xenstored' }, 0);
  }

  /** A new client connection (a socket or /dev/xen/xenbus open) for domain `domid`. */
  connect(domid = 0): XenstoreConnection {
    const c = new XenstoreConnection(this, domid);
    this.conns.add(c);
    return c;
  }
  /** @internal */
  disconnect(c: XenstoreConnection): void {
    for (const [id, t] of this.txs) if (t.conn === c) this.txs.delete(id);
    this.conns.delete(c);
  }

  /** Direct write (seeding, the simulator's own bookkeeping). Fires watches. */
  write(path: string, value: string, perms?: Perm[]): void {
    this.commitChange({ op: 'write', path, value: bytes(value) }, 0);
    if (perms) this.commitChange({ op: 'perms', path, perms }, 0);
  }
  /** Direct read. */
  read(path: string): string | undefined {
    const n = lookup(this.root, path);
    return n ? text(n.value) : undefined;
  }
  /** Direct removal. Fires watches. */
  rm(path: string): void {
    if (lookup(this.root, path)) this.commitChange({ op: 'rm', path }, 0);
  }
  /** Mark a domain introduced/released (fires @introduceDomain / @releaseDomain). */
  domainIntroduced(domid: number): void {
    this.introduced.add(domid);
    this.fireWatches('@introduceDomain', true);
  }
  domainReleased(domid: number): void {
    this.introduced.delete(domid);
    this.fireWatches('@releaseDomain', true);
  }
  /** All paths below `path` (for tests and debugging). */
  dump(path = '/'): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (n: XsNode, p: string) => {
      out[p] = text(n.value);
      for (const [k, c] of n.children) walk(c, p === '/' ? `/${k}` : `${p}/${k}`);
    };
    const n = lookup(this.root, path);
    if (n) walk(n, path);
    return out;
  }

  // --- tree mutation ----------------------------------------------------------------------------

  /** Apply a change to a tree, creating missing parents; returns false if a parent is missing for rm. */
  private applyChange(root: XsNode, ch: Change, domid: number): void {
    const gen = ++this.gen;
    if (ch.op === 'rm') {
      const parent = lookup(root, parentOf(ch.path));
      const name = components(ch.path).pop()!;
      if (parent && parent.children.delete(name)) parent.gen = gen;
      return;
    }
    let n = root;
    for (const c of components(ch.path)) {
      let next = n.children.get(c);
      if (!next) {
        // New nodes inherit the parent's permissions; an unprivileged creator owns them.
        const perms = n.perms.slice();
        if (domid !== 0) perms[0] = { perm: perms[0].perm, domid };
        next = new XsNode(perms, gen);
        n.children.set(c, next);
        n.gen = gen;
      }
      n = next;
    }
    n.gen = gen;
    if (ch.op === 'write') n.value = ch.value;
    if (ch.op === 'perms') n.perms = ch.perms;
  }

  private commitChange(ch: Change, domid: number): void {
    this.applyChange(this.root, ch, domid);
    this.fireWatches(ch.path, ch.op !== 'rm');
  }

  /**
   * Fire watches for a change at `path`: watches on the path or an ancestor see `path`; for a
   * removal, watches below it see their own path (their node went away).
   */
  private fireWatches(path: string, exact: boolean): void {
    for (const c of this.conns) {
      for (const w of c.watches) {
        if (path.startsWith('@') || w.path.startsWith('@')) {
          if (w.path === path) c.event(w, path);
        } else if (isChild(path, w.path)) {
          c.event(w, path);
        } else if (!exact && isChild(w.path, path)) {
          c.event(w, w.path);
        }
      }
    }
  }

  // --- request handling -------------------------------------------------------------------------

  /** @internal Handle one request; returns the reply (watch events are queued separately). */
  handle(conn: XenstoreConnection, m: XsMessage): XsMessage {
    const reply = (payload: Uint8Array, type = m.type): XsMessage => ({ type, reqId: m.reqId, txId: m.txId, payload });
    const ok = () => reply(strings('OK'));
    const err = (e: XsError) => reply(strings(e), XS.ERROR);
    let tx: Transaction | undefined;
    if (m.txId !== 0) {
      tx = this.txs.get(m.txId);
      if (!tx || tx.conn !== conn) return err('ENOENT');
    }
    const root = tx ? tx.root : this.root;
    const args = split(m.payload);
    const priv = conn.domid === 0;
    const path = (i = 0, special = false): string | XsError => (args[i] === undefined ? 'EINVAL' : canonical(args[i], conn.domid, special));
    const isErr = (x: string): x is XsError => /^E[A-Z0-9]+$/.test(x);
    const touch = (p: string) => {
      if (!tx || tx.seen.has(p)) return;
      tx.seen.set(p, lookup(tx.root, p)?.gen ?? -1);
    };
    const change = (ch: Change) => {
      if (tx) {
        touch(ch.path);
        touch(parentOf(ch.path));
        this.applyChange(tx.root, ch, conn.domid);
        tx.log.push(ch);
      } else {
        this.commitChange(ch, conn.domid);
      }
    };
    /** Write access: the node if it exists, else its nearest existing ancestor. */
    const writable = (p: string): boolean => {
      let q = p;
      let n = lookup(root, q);
      while (!n) { q = parentOf(q); n = lookup(root, q); }
      return canWrite(access(n, conn.domid, priv));
    };

    switch (m.type) {
      case XS.READ: {
        const p = path(); if (isErr(p)) return err(p);
        touch(p);
        const n = lookup(root, p);
        if (!n) return err('ENOENT');
        if (!canRead(access(n, conn.domid, priv))) return err('EACCES');
        return reply(n.value);
      }
      case XS.DIRECTORY:
      case XS.DIRECTORY_PART: {
        const p = path(); if (isErr(p)) return err(p);
        touch(p);
        const n = lookup(root, p);
        if (!n) return err('ENOENT');
        if (!canRead(access(n, conn.domid, priv))) return err('EACCES');
        const list = [...n.children.keys()].map((k) => k + '\0').join('');
        if (m.type === XS.DIRECTORY) {
          if (list.length > PAYLOAD_MAX) return err('E2BIG');
          return reply(bytes(list));
        }
        const off = Number(args[1] ?? 'x');
        if (!Number.isInteger(off) || off < 0) return err('EINVAL');
        const head = `${n.gen}\0`;
        let rest = list.slice(off);
        const room = PAYLOAD_MAX - head.length - 1;
        // Cut at a child boundary; an extra NUL marks the end of the list.
        if (rest.length > room) rest = rest.slice(0, rest.lastIndexOf('\0', room - 1) + 1);
        else rest += '\0';
        return reply(bytes(head + rest));
      }
      case XS.WRITE: {
        const nul = m.payload.indexOf(0);
        if (nul < 0) return err('EINVAL');
        const p = canonical(text(m.payload.subarray(0, nul)), conn.domid);
        if (isErr(p)) return err(p);
        if (!writable(p)) return err('EACCES');
        change({ op: 'write', path: p, value: m.payload.slice(nul + 1) });
        return ok();
      }
      case XS.MKDIR: {
        const p = path(); if (isErr(p)) return err(p);
        touch(p);
        if (lookup(root, p)) return ok();
        if (!writable(p)) return err('EACCES');
        change({ op: 'mkdir', path: p });
        return ok();
      }
      case XS.RM: {
        const p = path(); if (isErr(p)) return err(p);
        if (p === '/') return err('EINVAL');
        touch(p);
        const n = lookup(root, p);
        // Removing a missing node is fine as long as its parent exists.
        if (!n) return lookup(root, parentOf(p)) ? ok() : err('ENOENT');
        if (!canWrite(access(n, conn.domid, priv))) return err('EACCES');
        change({ op: 'rm', path: p });
        return ok();
      }
      case XS.GET_PERMS: {
        const p = path(); if (isErr(p)) return err(p);
        touch(p);
        const n = lookup(root, p);
        if (!n) return err('ENOENT');
        if (!canRead(access(n, conn.domid, priv))) return err('EACCES');
        return reply(strings(...n.perms.map(formatPerm)));
      }
      case XS.SET_PERMS: {
        const p = path(); if (isErr(p)) return err(p);
        const perms = args.slice(1).map(parsePerm);
        if (!perms.length || perms.some((x) => !x)) return err('EINVAL');
        const n = lookup(root, p);
        if (!n) return err('ENOENT');
        // Only the owner (or dom0) may change permissions.
        if (!priv && n.perms[0].domid !== conn.domid) return err('EPERM');
        change({ op: 'perms', path: p, perms: perms as Perm[] });
        return ok();
      }
      case XS.WATCH: {
        if (args.length < 2) return err('EINVAL');
        const p = canonical(args[0], conn.domid, true); if (isErr(p)) return err(p);
        if (conn.watches.some((w) => w.path === p && w.token === args[1])) return err('EEXIST');
        if (conn.watches.length >= MAX_WATCHES) return err('E2BIG');
        const w: Watch = { path: p, token: args[1], relativeTo: args[0].startsWith('/') || args[0].startsWith('@') ? undefined : `/local/domain/${conn.domid}/` };
        conn.watches.push(w);
        // The reply first, then the initial event (the caller may rely on the order).
        conn.afterReply(() => conn.event(w, p));
        return ok();
      }
      case XS.UNWATCH: {
        if (args.length < 2) return err('EINVAL');
        const p = canonical(args[0], conn.domid, true); if (isErr(p)) return err(p);
        const i = conn.watches.findIndex((w) => w.path === p && w.token === args[1]);
        if (i < 0) return err('ENOENT');
        conn.watches.splice(i, 1);
        return ok();
      }
      case XS.RESET_WATCHES: {
        conn.watches.length = 0;
        for (const [id, t] of this.txs) if (t.conn === conn) this.txs.delete(id);
        return ok();
      }
      case XS.TRANSACTION_START: {
        if (tx) return err('EBUSY');
        if ([...this.txs.values()].filter((t) => t.conn === conn).length >= MAX_TRANSACTIONS) return err('ENOSPC');
        const id = this.nextTx++;
        this.txs.set(id, { id, conn, root: this.root.clone(), seen: new Map(), log: [] });
        return reply(strings(String(id)));
      }
      case XS.TRANSACTION_END: {
        if (!tx) return err('ENOENT');
        this.txs.delete(tx.id);
        if (args[0] === 'F') return ok();
        if (args[0] !== 'T') return err('EINVAL');
        for (const [p, g] of tx.seen) {
          if ((lookup(this.root, p)?.gen ?? -1) !== g) return err('EAGAIN');
        }
        for (const ch of tx.log) this.commitChange(ch, conn.domid);
        return ok();
      }
      case XS.GET_DOMAIN_PATH: {
        const id = Number(args[0]);
        if (args[0] === undefined || !/^\d+$/.test(args[0]) || id >= 0x7ff0) return err('EINVAL');
        return reply(strings(`/local/domain/${id}`));
      }
      case XS.INTRODUCE: {
        if (!priv) return err('EACCES');
        if (args.length < 3 || !/^\d+$/.test(args[0])) return err('EINVAL');
        this.domainIntroduced(Number(args[0]));
        return ok();
      }
      case XS.RELEASE: {
        if (!priv) return err('EACCES');
        const id = Number(args[0]);
        if (!this.introduced.has(id)) return err('ENOENT');
        this.domainReleased(id);
        return ok();
      }
      case XS.IS_DOMAIN_INTRODUCED:
        return reply(strings(this.introduced.has(Number(args[0])) ? 'T' : 'F'));
      case XS.RESUME:
      case XS.SET_TARGET:
        return priv ? ok() : err('EACCES');
      case XS.CONTROL: {
        if (!priv) return err('EACCES');
        switch (args[0]) {
          case 'check': return ok();
          case 'print': return ok();
          case 'help': return reply(strings('check\nprint <string>\nhelp\nmemreport\n'));
          case 'memreport': return reply(strings(`nodes: ${Object.keys(this.dump()).length}\n`));
          default: return err('EINVAL');
        }
      }
      default:
        return err('EINVAL');
    }
  }
}

/**
 * One client connection: a byte stream in (requests, possibly split across writes), a byte
 * stream out (replies and watch events). The engine maps the guest fd's read/write/poll onto it.
 */
export class XenstoreConnection {
  readonly watches: Watch[] = [];
  private inbuf = new Uint8Array(0);
  private out: Uint8Array[] = [];
  private pendingAfter: Array<() => void> = [];
  private closed = false;
  constructor(private readonly server: XenstoreServer, readonly domid: number) {}

  /** Bytes written by the guest. Complete requests are answered immediately. */
  write(data: Uint8Array): void {
    if (this.closed) return;
    const b = new Uint8Array(this.inbuf.length + data.length);
    b.set(this.inbuf);
    b.set(data, this.inbuf.length);
    this.inbuf = b;
    for (;;) {
      if (this.inbuf.length >= 16 && new DataView(this.inbuf.buffer, this.inbuf.byteOffset).getUint32(12, true) > PAYLOAD_MAX) {
        // A client announcing an oversized payload has broken the protocol: xenstored drops it.
        this.close();
        return;
      }
      const d = decode(this.inbuf);
      if (!d) break;
      this.inbuf = this.inbuf.slice(d.used);
      this.push(this.server.handle(this, d.msg));
      const after = this.pendingAfter;
      this.pendingAfter = [];
      for (const f of after) f();
    }
  }
  /** Up to `max` bytes of pending output (empty when nothing is pending). */
  read(max: number): Uint8Array {
    const chunks: Uint8Array[] = [];
    let n = 0;
    while (this.out.length && n < max) {
      const head = this.out[0];
      const take = Math.min(head.length, max - n);
      chunks.push(head.subarray(0, take));
      n += take;
      if (take === head.length) this.out.shift();
      else this.out[0] = head.subarray(take);
    }
    const r = new Uint8Array(n);
    let o = 0;
    for (const c of chunks) { r.set(c, o); o += c.length; }
    return r;
  }
  /** True when read() would return data. */
  readable(): boolean {
    return this.out.length > 0;
  }
  /** True once the server has dropped the connection (reads then see EOF). */
  isClosed(): boolean {
    return this.closed;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.disconnect(this);
  }
  /** @internal */
  event(w: Watch, path: string): void {
    const shown = w.relativeTo && path.startsWith(w.relativeTo) ? path.slice(w.relativeTo.length) : path;
    this.push({ type: XS.WATCH_EVENT, reqId: 0, txId: 0, payload: strings(shown, w.token) });
  }
  /** @internal */
  afterReply(f: () => void): void {
    this.pendingAfter.push(f);
  }
  private push(m: XsMessage): void {
    this.out.push(encode(m));
  }
}
