/** Values decoded by C type with memcheck's definedness, against a fake guest memory. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ATE, CType, StructType } from '../../../engine/debuginfo/types';
import { GuestView, ObjectBytes, ValueFormatter } from '../../../adapter/values';

const INT: CType = { kind: 'base', name: 'int', size: 4, encoding: ATE.signed };
const UINT: CType = { kind: 'base', name: 'unsigned int', size: 4, encoding: ATE.unsigned };
const CHAR: CType = { kind: 'base', name: 'char', size: 1, encoding: ATE.signedChar };
const BOOL: CType = { kind: 'base', name: '_Bool', size: 1, encoding: ATE.boolean };
const DOUBLE: CType = { kind: 'base', name: 'double', size: 8, encoding: ATE.float };
const ptr = (target: CType): CType => ({ kind: 'pointer', name: `${target.name} *`, size: 8, target: () => target });

/** A guest of one 64-byte page at 0x1000 (bytes 0x1030.. unaddressable, 0x1020..0x1027 undefined). */
class FakeGuest implements GuestView {
  readonly mem = new Uint8Array(64);
  read(addr: number, len: number): ObjectBytes {
    const o = { bytes: new Uint8Array(len), vbits: new Uint8Array(len), noaccess: new Uint8Array(len), address: addr };
    for (let i = 0; i < len; i++) {
      const a = addr + i - 0x1000;
      if (a < 0 || a >= 0x30) { o.noaccess[i] = 1; continue; }
      o.bytes[i] = this.mem[a];
      if (a >= 0x20 && a < 0x28) o.vbits[i] = 0xff;
    }
    return o;
  }
  describe(addr: number): string | undefined {
    return addr >= 0x1000 && addr < 0x1030 ? `${addr - 0x1000} bytes inside a block of 48 alloc'd at t.c:3` : undefined;
  }
  symbol(addr: number): string | undefined {
    return addr === 0x4000 ? 'handler' : undefined;
  }
}

function bytes(values: number[], vbits: number[] = [], noaccess: number[] = []): ObjectBytes {
  const n = values.length;
  const pad = (a: number[]): Uint8Array => Uint8Array.from({ length: n }, (_, i) => a[i] ?? 0);
  return { bytes: Uint8Array.from(values), vbits: pad(vbits), noaccess: pad(noaccess) };
}

describe('value formatting with definedness', () => {
  const guest = new FakeGuest();
  const fmt = new ValueFormatter(guest);

  it('integers: signed, unsigned, and their definedness', () => {
    assert.equal(fmt.value(INT, bytes([0xfe, 0xff, 0xff, 0xff])), '-2');
    assert.equal(fmt.value(UINT, bytes([0xfe, 0xff, 0xff, 0xff])), '4294967294');
    assert.equal(fmt.value(INT, bytes([1, 2, 3, 4], [0xff, 0xff, 0xff, 0xff])), '<uninitialised>');
    assert.equal(fmt.value(INT, bytes([7, 0, 0, 0], [0, 0xff, 0, 0])), '7 <undefined bits 0x0000ff00>');
    assert.equal(fmt.value(INT, bytes([7, 0, 0, 0], [0x0f, 0, 0, 0])), '7 <undefined bits 0x0000000f>');
    assert.equal(fmt.value(INT, bytes([7, 0, 0, 0], [], [1, 1, 1, 1])), '<unaddressable>');
  });

  it('chars, booleans, doubles', () => {
    assert.equal(fmt.value(CHAR, bytes([65])), "65 'A'");
    assert.equal(fmt.value(CHAR, bytes([10])), "10 '\\n'");
    assert.equal(fmt.value(BOOL, bytes([1])), 'true');
    const d = new Uint8Array(new Float64Array([2.5]).buffer);
    assert.equal(fmt.value(DOUBLE, bytes([...d])), '2.5');
  });

  it('pointers: NULL, heap blocks, C strings, functions', () => {
    const le = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, 0, 0, 0, 0, 0, 0];
    assert.equal(fmt.value(ptr(INT), bytes(le(0))), '0x0');
    assert.equal(fmt.value(ptr(INT), bytes(le(0x1010))), "0x1010 (16 bytes inside a block of 48 alloc'd at t.c:3)");
    guest.mem.set([104, 105, 0], 0x10);
    assert.equal(fmt.value(ptr(CHAR), bytes(le(0x1010))), "0x1010 \"hi\" (16 bytes inside a block of 48 alloc'd at t.c:3)");
    guest.mem.set([104, 105, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33], 0x20);
    assert.match(fmt.value(ptr(CHAR), bytes(le(0x1020))), /^0x1020 "hi!{14}" <runs into unaddressable memory> <has uninitialised bytes>/);
    const fn: CType = { kind: 'function', name: 'function', size: 1 };
    assert.equal(fmt.value(ptr(fn), bytes(le(0x4000))), '0x4000 <handler>');
  });

  it('structs and arrays show their members, each with its own definedness', () => {
    const pair: StructType = { kind: 'struct', name: 'struct pair', size: 8, members: [{ name: 'a', offset: 0, type: INT }, { name: 'b', offset: 4, type: INT }] };
    const o = bytes([1, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    assert.equal(fmt.value(pair, o), '{a = 1, b = <uninitialised>}');
    const v = fmt.variable('s', pair, o, 's');
    const kids = v.children?.() ?? [];
    assert.deepEqual(kids.map((k) => [k.name, k.value, k.evaluateName]), [['a', '1', 's.a'], ['b', '<uninitialised>', 's.b']]);

    const arr: CType = { kind: 'array', name: 'int [2]', size: 8, element: INT, count: 2 };
    assert.equal(fmt.value(arr, o), '{1, <uninitialised>}');
    const str: CType = { kind: 'array', name: 'char [4]', size: 4, element: CHAR, count: 4 };
    assert.equal(fmt.value(str, bytes([111, 107, 0, 0])), '"ok"');

    const flags: StructType = {
      kind: 'struct', name: 'struct f', size: 4,
      members: [{ name: 'lo', offset: 0, type: UINT, bitSize: 3, bitOffset: 0 }, { name: 'hi', offset: 0, type: UINT, bitSize: 5, bitOffset: 3 }],
    };
    assert.equal(fmt.value(flags, bytes([0b10101_011, 0, 0, 0], [0b11111_000, 0, 0, 0])), '{lo = 3, hi = <uninitialised>}');
  });

  it('a struct pointer opens onto the pointee\'s members', () => {
    const pair: StructType = { kind: 'struct', name: 'struct pair', size: 8, members: [{ name: 'a', offset: 0, type: INT }, { name: 'b', offset: 4, type: INT }] };
    guest.mem.set([5, 0, 0, 0], 0x1c);
    const v = fmt.variable('p', ptr(pair), bytes([0x1c, 0x10, 0, 0, 0, 0, 0, 0]), 'p');
    // b overlaps the undefined bytes at 0x20.
    assert.deepEqual((v.children?.() ?? []).map((k) => [k.evaluateName, k.value]), [['p->a', '5'], ['p->b', '<uninitialised>']]);
  });
});
