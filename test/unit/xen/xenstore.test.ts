/** The xenstore server over its wire protocol: requests, errors, transactions, watches, the seeded tree. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenstoreConnection, XenstoreServer } from '../../../engine/xen/xenstore/server';
import { seedXenstore } from '../../../engine/xen/xenstore/seed';
import { decode, encode, split, strings, XS } from '../../../engine/xen/xenstore/protocol';
import { SimHypervisor } from '../../../engine/xen/sim/hypervisor';

/** A libxenstore-like client: header and payload as two writes, replies read back. */
class Client {
  private req = 100;
  constructor(readonly conn: XenstoreConnection) {}
  send(type: number, payload: Uint8Array, tx = 0): number {
    const m = encode({ type, reqId: ++this.req, txId: tx, payload });
    this.conn.write(m.subarray(0, 16));
    this.conn.write(m.subarray(16));
    return this.req;
  }
  /** Next message (reply or event). */
  next() {
    const all = this.conn.read(1 << 20);
    const d = decode(all);
    assert.ok(d, 'a complete message is pending');
    // Put back anything after the first message.
    const rest = all.subarray(d.used);
    if (rest.length) this.pending.push(rest);
    return d.msg;
  }
  private pending: Uint8Array[] = [];
  /** All queued messages. */
  drain() {
    const chunks = [...this.pending, this.conn.read(1 << 20)];
    this.pending = [];
    let buf = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
    let o = 0;
    for (const c of chunks) { buf.set(c, o); o += c.length; }
    const out = [];
    for (let d = decode(buf); d; d = decode(buf)) { out.push(d.msg); buf = buf.slice(d.used); }
    return out;
  }
  call(type: number, parts: string[] | Uint8Array, tx = 0) {
    const id = this.send(type, parts instanceof Uint8Array ? parts : strings(...parts), tx);
    const msgs = this.drain();
    const reply = msgs.find((m) => m.reqId === id)!;
    assert.ok(reply, 'a reply');
    return { type: reply.type, text: new TextDecoder().decode(reply.payload), parts: split(reply.payload), events: msgs.filter((m) => m.type === XS.WATCH_EVENT).map((m) => split(m.payload)) };
  }
  read(path: string, tx = 0) { return this.call(XS.READ, [path], tx); }
  write(path: string, value: string, tx = 0) {
    return this.call(XS.WRITE, new TextEncoder().encode(`${path}\0${value}`), tx);
  }
}

function seeded() {
  const sim = new SimHypervisor({ clock: { bootTime: 1764175920, now: 1764176376 } });
  const xs = seedXenstore(sim);
  return { sim, xs, c: new Client(xs.connect(0)) };
}

test('the seeded tree: what xl list, xl uptime and xl list -l read', () => {
  const { c, xs } = seeded();
  assert.equal(c.read('/local/domain/0/name').text, 'Domain-0');
  assert.equal(c.read('/local/domain/1/name').text, 'guest1');
  assert.equal(c.read('/local/domain/0/domid').text, '0');
  assert.equal(c.read('/local/pool/0/name').text, 'Pool-0');
  const vm = c.read('/local/domain/1/vm').text;
  assert.equal(vm, '/vm/6e1a4d2c-8f4b-4c1e-9a57-3b2f0e9d7c11');
  assert.equal(c.read(`${vm}/start_time`).text, '1764176220.00');
  // Absent nodes give ENOENT (xl uptime probes /local/domain/0/target).
  const r = c.read('/local/domain/0/target');
  assert.equal(r.type, XS.ERROR);
  assert.deepEqual(r.parts, ['ENOENT']);
  assert.ok(Object.keys(xs.dump('/tool')).includes('/tool/xenstored'));
});

test('READ replies are not NUL-terminated; WRITE/MKDIR/RM/DIRECTORY round trips', () => {
  const { c } = seeded();
  assert.equal(c.write('/a/b/c', 'hello').text, 'OK\0');
  const r = c.read('/a/b/c');
  assert.equal(r.type, XS.READ);
  assert.equal(r.text, 'hello');
  assert.equal(c.read('/a/b').text, '', 'intermediate nodes exist, empty');
  assert.equal(c.call(XS.MKDIR, ['/a/d']).text, 'OK\0');
  assert.equal(c.call(XS.MKDIR, ['/a/d']).text, 'OK\0', 'mkdir of an existing node is fine');
  assert.deepEqual(c.call(XS.DIRECTORY, ['/a']).parts, ['b', 'd']);
  assert.equal(c.call(XS.DIRECTORY, ['/a/d']).text, '', 'empty directory: empty payload');
  assert.equal(c.call(XS.RM, ['/a/b']).text, 'OK\0');
  assert.equal(c.read('/a/b/c').parts[0], 'ENOENT');
  assert.equal(c.call(XS.RM, ['/a/nothere']).text, 'OK\0', 'rm of a missing node under an existing parent');
  assert.deepEqual(c.call(XS.RM, ['/x/y']).parts, ['ENOENT']);
  assert.deepEqual(c.call(XS.RM, ['/']).parts, ['EINVAL']);
  assert.deepEqual(c.read('bad//path').parts, ['EINVAL']);
  assert.deepEqual(c.read('/trailing/').parts, ['EINVAL']);
});

test('relative paths resolve under /local/domain/<caller>', () => {
  const { c } = seeded();
  assert.equal(c.read('domid').text, '0', 'libxl reads "domid" to learn its own id');
  assert.equal(c.call(XS.GET_DOMAIN_PATH, ['7']).text, '/local/domain/7\0');
});

test('GET_PERMS / SET_PERMS and access checks for unprivileged connections', () => {
  const { c, xs } = seeded();
  assert.deepEqual(c.call(XS.GET_PERMS, ['/local/domain/1']).parts, ['n0', 'r1']);
  assert.deepEqual(c.call(XS.GET_PERMS, ['/local/domain/1/device']).parts, ['n1']);
  c.write('/secret', 'x');
  assert.equal(c.call(XS.SET_PERMS, ['/secret', 'n0', 'r4']).text, 'OK\0');
  const d4 = new Client(xs.connect(4));
  const d5 = new Client(xs.connect(5));
  assert.equal(d4.read('/secret').text, 'x');
  assert.deepEqual(d5.read('/secret').parts, ['EACCES']);
  assert.deepEqual(d4.write('/secret', 'y').parts, ['EACCES']);
  assert.deepEqual(d4.call(XS.SET_PERMS, ['/secret', 'b4']).parts, ['EPERM']);
  // A domain may not create nodes where it has no write access; under its own data/ it may,
  // and owns what it creates.
  assert.deepEqual(d4.write('/local/domain/4/data/k', 'v').parts, ['EACCES']);
  c.call(XS.MKDIR, ['/local/domain/4/data']);
  c.call(XS.SET_PERMS, ['/local/domain/4/data', 'n4']);
  assert.equal(d4.write('/local/domain/4/data/k', 'v').text, 'OK\0');
  assert.deepEqual(c.call(XS.GET_PERMS, ['/local/domain/4/data/k']).parts, ['n4']);
  assert.deepEqual(c.call(XS.SET_PERMS, ['/secret', 'q9']).parts, ['EINVAL']);
});

test('WATCH: OK, then the initial event; events on writes below; UNWATCH; relative watches', () => {
  const { c, xs } = seeded();
  const id = c.send(XS.WATCH, strings('/w', 'tok'));
  const msgs = c.drain();
  assert.deepEqual(msgs.map((m) => [m.type, m.reqId]), [[XS.WATCH, id], [XS.WATCH_EVENT, 0]]);
  assert.deepEqual(split(msgs[1].payload), ['/w', 'tok']);
  const other = new Client(xs.connect(0));
  other.write('/w/x', '1');
  assert.deepEqual(c.drain().map((m) => split(m.payload)), [['/w/x', 'tok']]);
  other.write('/unrelated', '1');
  assert.deepEqual(c.drain(), []);
  assert.deepEqual(c.call(XS.WATCH, ['/w', 'tok']).parts, ['EEXIST']);
  // Removing an ancestor fires the watch with the watched path.
  c.call(XS.WATCH, ['/w/x/deep', 't2']);
  const rm = other.call(XS.RM, ['/w']);
  assert.equal(rm.text, 'OK\0');
  assert.deepEqual(c.drain().map((m) => split(m.payload)), [['/w', 'tok'], ['/w/x/deep', 't2']]);
  assert.equal(c.call(XS.UNWATCH, ['/w', 'tok']).text, 'OK\0');
  assert.deepEqual(c.call(XS.UNWATCH, ['/w', 'tok']).parts, ['ENOENT']);
  const rel = c.call(XS.WATCH, ['memory/target', 'rel']);
  assert.deepEqual(rel.events, [['memory/target', 'rel']], 'relative watch, relative event path');
  other.write('/local/domain/0/memory/target', '4194304');
  assert.deepEqual(c.drain().map((m) => split(m.payload)), [['memory/target', 'rel']]);
  assert.equal(c.call(XS.RESET_WATCHES, []).text, 'OK\0');
  other.write('/local/domain/0/memory/target', '1');
  assert.deepEqual(c.drain(), []);
});

test('@introduceDomain and @releaseDomain', () => {
  const { c, sim } = seeded();
  c.call(XS.WATCH, ['@introduceDomain', 'i']);
  c.call(XS.WATCH, ['@releaseDomain', 'r']);
  assert.equal(c.call(XS.IS_DOMAIN_INTRODUCED, ['3']).text, 'F\0');
  const intro = c.call(XS.INTRODUCE, ['3', '12345', '7']);
  assert.equal(intro.text, 'OK\0');
  assert.deepEqual(intro.events, [['@introduceDomain', 'i']]);
  assert.equal(c.call(XS.IS_DOMAIN_INTRODUCED, ['3']).text, 'T\0');
  sim.destroyDomain(1);
  assert.deepEqual(c.drain().map((m) => split(m.payload)), [['@releaseDomain', 'r']]);
});

test('transactions: isolation, commit, abort, EAGAIN on conflict', () => {
  const { c, xs } = seeded();
  const other = new Client(xs.connect(0));
  const t = Number(c.call(XS.TRANSACTION_START, ['']).parts[0]);
  assert.ok(t > 0);
  // libxl list -l: read both memory nodes, then write them, in one transaction.
  assert.equal(c.read('/local/domain/0/memory/target', t).parts[0], 'ENOENT');
  c.write('/local/domain/0/memory/target', '4194304', t);
  c.write('/local/domain/0/memory/static-max', '4194304', t);
  assert.equal(c.read('/local/domain/0/memory/target', t).text, '4194304');
  assert.equal(other.read('/local/domain/0/memory/target').parts[0], 'ENOENT', 'invisible before commit');
  assert.equal(c.call(XS.TRANSACTION_END, ['T'], t).text, 'OK\0');
  assert.equal(other.read('/local/domain/0/memory/static-max').text, '4194304');
  // Abort drops the changes.
  const t2 = Number(c.call(XS.TRANSACTION_START, ['']).parts[0]);
  c.write('/ab', '1', t2);
  assert.equal(c.call(XS.TRANSACTION_END, ['F'], t2).text, 'OK\0');
  assert.equal(other.read('/ab').parts[0], 'ENOENT');
  // A node read in the transaction and changed outside it: EAGAIN, nothing applied.
  const t3 = Number(c.call(XS.TRANSACTION_START, ['']).parts[0]);
  c.read('/local/domain/1/name', t3);
  c.write('/local/domain/1/note', 'x', t3);
  other.write('/local/domain/1/name', 'renamed');
  assert.deepEqual(c.call(XS.TRANSACTION_END, ['T'], t3).parts, ['EAGAIN']);
  assert.equal(other.read('/local/domain/1/note').parts[0], 'ENOENT');
  // Unknown or finished transaction ids.
  assert.deepEqual(c.read('/local', t3).parts, ['ENOENT']);
  // A watch fires only when the transaction commits.
  c.call(XS.WATCH, ['/tw', 'w']);
  const t4 = Number(other.call(XS.TRANSACTION_START, ['']).parts[0]);
  other.write('/tw/a', '1', t4);
  assert.deepEqual(c.drain(), []);
  other.call(XS.TRANSACTION_END, ['T'], t4);
  assert.deepEqual(c.drain().map((m) => split(m.payload)), [['/tw/a', 'w']]);
});

test('xenstore-write/-read/-ls style sequences and DIRECTORY_PART', () => {
  const { c } = seeded();
  const t = c.call(XS.TRANSACTION_START, ['']).parts[0];
  c.write('/tool/test', 'v', Number(t));
  assert.equal(c.call(XS.TRANSACTION_END, ['T'], Number(t)).text, 'OK\0');
  assert.equal(c.read('/tool/test').text, 'v');
  for (let i = 0; i < 400; i++) c.write(`/many/child-number-${String(i).padStart(4, '0')}`, '');
  assert.deepEqual(c.call(XS.DIRECTORY, ['/many']).parts, ['E2BIG']);
  const names: string[] = [];
  let off = 0;
  for (;;) {
    const r = c.call(XS.DIRECTORY_PART, ['/many', String(off)]);
    const [gen, ...rest] = r.text.split('\0');
    assert.match(gen, /^\d+$/);
    const body = r.text.slice(gen.length + 1);
    const done = body.endsWith('\0\0') || body === '\0';
    const got = rest.filter((x) => x !== '');
    names.push(...got);
    off += got.reduce((a, x) => a + x.length + 1, 0);
    if (done) break;
  }
  assert.equal(names.length, 400);
  assert.equal(names[399], 'child-number-0399');
});

test('errors, CONTROL, unknown types and oversized messages', () => {
  const { c, xs } = seeded();
  assert.equal(c.call(XS.CONTROL, ['check']).text, 'OK\0');
  assert.deepEqual(c.call(XS.CONTROL, ['bogus']).parts, ['EINVAL']);
  assert.deepEqual(c.call(99, ['x']).parts, ['EINVAL']);
  const u = new Client(xs.connect(3));
  assert.deepEqual(u.call(XS.INTRODUCE, ['4', '1', '2']).parts, ['EACCES']);
  const bad = xs.connect(0);
  const hdr = encode({ type: XS.READ, reqId: 1, txId: 0, payload: new Uint8Array(0) });
  new DataView(hdr.buffer).setUint32(12, 5000, true);
  bad.write(hdr);
  assert.ok(bad.isClosed());
  assert.equal(bad.read(100).length, 0);
});

test('a byte stream split anywhere still parses; replies echo req_id and tx_id', () => {
  const xs = new XenstoreServer();
  const conn = xs.connect(0);
  const m = encode({ type: XS.WRITE, reqId: 77, txId: 0, payload: new TextEncoder().encode('/k\0v') });
  for (const b of m) conn.write(Uint8Array.of(b));
  const d = decode(conn.read(1000))!;
  assert.deepEqual([d.msg.type, d.msg.reqId, d.msg.txId], [XS.WRITE, 77, 0]);
  assert.ok(!conn.readable());
  assert.equal(xs.read('/k'), 'v');
});
