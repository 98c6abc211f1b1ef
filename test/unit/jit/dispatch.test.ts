/**
 * The translation cache and run loop: a block that chased a jump into other code is dropped when
 * that code changes (its extents include the chased range, not only the bytes after its start),
 * and the run then sees the new instructions; a block left by a side exit counts the
 * instructions it completed, not all of its own.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Dispatcher } from '../../../engine/jit/dispatch';
import { GuestState } from '../../../engine/jit/guest-state';
import { InterpEnv } from '../../../engine/jit/interp';
import { ViewMemory } from '../../../engine/jit/memory';

const CODE = 0x1000;
const RBX = 3;

describe('dispatcher', () => {
  it('invalidating a chased range drops the block that chased into it', () => {
    // 0x1000: mov eax, 1; jmp 0x1100          0x1100: mov ebx, 2; ud2
    const code = new Uint8Array(0x200);
    code.set([0xb8, 1, 0, 0, 0, 0xe9, 0xf6, 0, 0, 0], 0);
    code.set([0xbb, 2, 0, 0, 0, 0x0f, 0x0b], 0x100);
    const fetch = (a: number, n: number): Uint8Array | undefined =>
      a >= CODE && a < CODE + code.length ? code.subarray(a - CODE, Math.min(code.length, a - CODE + n)) : undefined;
    const env: InterpEnv = { mem: new ViewMemory({ readView: () => undefined, writeView: () => undefined }), dirty: {} };
    const d = new Dispatcher(fetch, { chase: true, hotThreshold: 0 });
    const run = (): bigint => {
      const s = new GuestState();
      s.rip = CODE;
      const r = d.run(s, env);
      assert.equal(r.exit?.jk, 'SigILL');
      assert.equal(s.gpr(0), 1n);
      return s.gpr(RBX);
    };
    assert.equal(run(), 2n);
    assert.equal(d.translations, 1, 'one block from 0x1000 through the jump to the ud2');
    code[0x101] = 3; // mov ebx, 3
    d.invalidate(0x1100, 0x1105);
    assert.equal(run(), 3n);
    assert.equal(d.translations, 2);
  });

  it('a side exit counts the instructions run up to it, compiled or interpreted', () => {
    // 0x1000: mov eax, 1; test eax, eax; jnz 0x1100; nop; nop; nop; ud2      0x1100: ud2
    const code = new Uint8Array(0x200);
    code.set([0xb8, 1, 0, 0, 0, 0x85, 0xc0, 0x0f, 0x85, 0xf3, 0, 0, 0, 0x90, 0x90, 0x90, 0x0f, 0x0b], 0);
    code.set([0x0f, 0x0b], 0x100);
    const fetch = (a: number, n: number): Uint8Array | undefined =>
      a >= CODE && a < CODE + code.length ? code.subarray(a - CODE, Math.min(code.length, a - CODE + n)) : undefined;
    const env: InterpEnv = { mem: new ViewMemory({ readView: () => undefined, writeView: () => undefined }), dirty: {} };
    for (const opts of [{ hotThreshold: 0 }, { interpret: true }]) {
      const d = new Dispatcher(fetch, opts);
      const s = new GuestState();
      s.rip = CODE;
      const r = d.run(s, env);
      assert.deepEqual([r.exit?.jk, r.exit?.insnAddr], ['SigILL', 0x1100]);
      assert.equal(r.insns, 3 + 1, `mov, test, jnz, then the ud2 block (${JSON.stringify(opts)})`);
    }
  });
});
