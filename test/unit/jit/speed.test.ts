/**
 * Speed of the three ways to run lifted code, on one guest loop (a 5-instruction body with an
 * add, a xor, a store, a dec and a jnz): the IR interpreter, the optimised JS code generator,
 * and the code generator with memcheck's instrumentation; Unicorn on the same code for scale.
 * All four must end in the same state; the rates are printed (the machine may be shared, so the
 * bounds asserted are loose).
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Dispatcher } from '../../../engine/jit/dispatch';
import { GuestState } from '../../../engine/jit/guest-state';
import { DirtyFn, InterpEnv } from '../../../engine/jit/interp';
import { ViewMemory } from '../../../engine/jit/memory';
import { instrumentMemcheck } from '../../../engine/memcheck/vbits';
import { CODE, DATA, Machines } from './machine';

const ITERATIONS = 400_000;

/** mov ecx, N; xor eax, eax; 1: add rax, rcx; xor rdx, rax; mov [rsp-8], rdx; dec rcx; jnz 1b */
function loop(n: number): Uint8Array {
  const c = Buffer.alloc(4);
  c.writeUInt32LE(n);
  return Buffer.concat([Buffer.from([0xb9]), c, Buffer.from('31c0 4801c8 4831c2 48895424f8 48ffc9 75f0'.replace(/ /g, ''), 'hex')]);
}

function initial(): GuestState {
  const s = new GuestState();
  s.rip = CODE;
  s.setGpr(4, BigInt(DATA + 0x1000));
  return s;
}

describe('speed of lifted code', () => {
  let m: Machines;
  before(() => { m = new Machines(); });
  after(() => m.close());

  it('interpreter, code generator and memcheck-instrumented code agree with Unicorn on a loop', () => {
    const code = loop(ITERATIONS);
    const end = CODE + code.length;
    const insns = 2 + 5 * ITERATIONS;
    m.loadCode(code);
    const data = new Uint8Array(0x2000);
    const fetch = (a: number, n: number): Uint8Array | undefined =>
      a >= CODE && a < end ? m.code.bytes.subarray(a - CODE, Math.min(end, a + n) - CODE) : undefined;
    const view = (a: number, n: number): Uint8Array | undefined =>
      a >= DATA && a + n <= DATA + 0x2000 ? m.data.bytes.subarray(a - DATA, a - DATA + n) : undefined;
    // Shadow memory as flat V bytes (the engine's is ShadowMemory; this measures the code, not it).
    const vbits = new DataView(new ArrayBuffer(0x2000));
    const dirty: Record<string, DirtyFn> = {
      mc_loadv: (_ia, a) => vbits.getBigUint64(Number(a) - DATA, true),
      mc_storev: (_ia, a, n, v) => {
        if (n === 8n) vbits.setBigUint64(Number(a) - DATA, v, true);
        else for (let i = 0; i < Number(n); i++) vbits.setUint8(Number(a) - DATA + i, Number((v >> BigInt(8 * i)) & 0xffn));
        return undefined;
      },
      mc_cond_fail: () => { throw new Error('no undefined values here'); },
      mc_value_fail: () => { throw new Error('no undefined values here'); },
    };
    const env: InterpEnv = { mem: new ViewMemory({ readView: view, writeView: view }), dirty };

    const t0 = process.hrtime.bigint();
    const uni = m.runUnicorn(initial(), data, { until: end });
    const unicornSecs = Number(process.hrtime.bigint() - t0) / 1e9;

    const rates: Record<string, number> = { unicorn: insns / unicornSecs };
    const runs: Array<[string, Dispatcher, number]> = [
      ['interpreter', new Dispatcher(fetch, { interpret: true }), 1],
      ['codegen', new Dispatcher(fetch), 4],
      ['codegen+memcheck', new Dispatcher(fetch, { instrument: (sb) => instrumentMemcheck(sb) }), 4],
    ];
    for (const [name, d, rounds] of runs) {
      let best = Infinity;
      for (let r = 0; r < rounds; r++) {
        m.data.bytes.fill(0);
        const s = initial();
        const t = process.hrtime.bigint();
        while (s.rip !== end) d.run(s, env, 1e6);
        best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
        assert.equal(s.gpr(0), uni.state.gpr(0), name);
        assert.equal(s.gpr(2), uni.state.gpr(2), name);
      }
      rates[name] = insns / best;
    }
    console.log(`# guest insn/s on the loop: ${Object.entries(rates).map(([k, v]) => `${k} ${(v / 1e6).toFixed(1)} M`).join(', ')}`);
    assert.ok(rates.codegen > rates.interpreter, 'compiled code is faster than the interpreter');
    assert.ok(rates.interpreter > 1e5 && rates['codegen+memcheck'] > 1e6);
  });
});
