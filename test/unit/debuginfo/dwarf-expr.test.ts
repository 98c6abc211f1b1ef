/**
 * The DWARF expression evaluator on hand-built operation lists (the shapes CFI uses).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DwarfOp, evaluate, ExprEnv, wordToNumber } from '../../../engine/debuginfo/dwarf-expr';

/** Builds ops with byte offsets as a 1-byte opcode plus `sizes[i]` operand bytes. */
function ops(list: [number, number?, number?, number?][]): DwarfOp[] {
  let offset = 0;
  return list.map(([atom, number = 0, number2 = 0, size = 0]) => {
    const op = { atom, number, number2, offset };
    offset += 1 + size;
    return op;
  });
}

function env(regs: Record<number, number>, memory: Record<number, bigint> = {}, cfa = NaN): ExprEnv {
  return {
    reg: (r) => regs[r] ?? NaN,
    readU64: (a) => memory[a],
    cfa,
  };
}

describe('dwarf-expr', () => {
  it("evaluates the PLT's CFA expression (rsp + 8 + ((rip & 15) >= 11 ? 8 : 0))", () => {
    // DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_lit11; DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus
    const plt = ops([[0x77, 8], [0x80, 0], [0x3f], [0x1a], [0x3b], [0x2a], [0x33], [0x24], [0x22]]);
    const rsp = 0x7fffffffe000;
    assert.deepEqual(evaluate(plt, env({ 7: rsp, 16: 0x555555555020 })), { kind: 'memory', address: rsp + 8 });
    assert.deepEqual(evaluate(plt, env({ 7: rsp, 16: 0x55555555502b })), { kind: 'memory', address: rsp + 16 });
  });

  it('handles CFA-relative rules, values and registers', () => {
    const cfa = 0x7fffffffe100;
    assert.deepEqual(evaluate(ops([[0x9c], [0x23, -16]]), env({}, {}, cfa)), { kind: 'memory', address: cfa - 16 });
    assert.deepEqual(evaluate(ops([[0x9c], [0x9f]]), env({}, {}, cfa)), { kind: 'value', value: cfa });
    assert.deepEqual(evaluate(ops([[0x90, 3]]), env({})), { kind: 'register', regno: 3 });
    assert.deepEqual(evaluate(ops([[0x56]]), env({})), { kind: 'register', regno: 6 });
    assert.equal(evaluate(ops([[0x56], [0x9f]]), env({})), undefined, 'a register location must stand alone');
  });

  it('dereferences memory and keeps 64-bit masks exact', () => {
    const sp = 0x7fffffffe000;
    const mem = { [sp + 8]: 0x1234n, [sp]: 0xffffffffffffffffn };
    assert.deepEqual(evaluate(ops([[0x77, 8], [0x06], [0x9f]]), env({ 7: sp }, mem)), { kind: 'value', value: 0x1234 });
    assert.deepEqual(evaluate(ops([[0x77, 0], [0x94, 2], [0x9f]]), env({ 7: sp }, mem)), { kind: 'value', value: 0xffff });
    // Align down with an all-ones-but-low-bits mask, as hand-written CFI for realigned stacks does.
    const align = ops([[0x77, 0x1f], [0x11, -16], [0x1a]]);
    assert.deepEqual(evaluate(align, env({ 7: sp + 3 })), { kind: 'memory', address: sp + 0x20 });
    assert.equal(wordToNumber(0xfffffffffffffff0n), -16);
    assert.equal(wordToNumber(0x7fffffffe000n), 0x7fffffffe000);
  });

  it('follows skip and bra', () => {
    // Offsets: litN@0, bra@1 (to 1+3+4 = 8), lit5@4, skip@5 (to 5+3+1 = 9), lit7@8, stack_value@9.
    const prog = (cond: number): DwarfOp[] =>
      ops([[0x30 + cond], [0x28, 4, 0, 2], [0x35], [0x2f, 1, 0, 2], [0x37], [0x9f]]);
    assert.deepEqual(evaluate(prog(0), env({})), { kind: 'value', value: 5 }, 'bra not taken, skip taken');
    assert.deepEqual(evaluate(prog(1), env({})), { kind: 'value', value: 7 }, 'bra taken');
  });

  it('gives undefined for unknown registers, unreadable memory, underflow and unsupported ops', () => {
    assert.equal(evaluate(ops([[0x73, 8]]), env({})), undefined, 'rbx unknown');
    assert.equal(evaluate(ops([[0x77, 8], [0x06]]), env({ 7: 0x1000 })), undefined, 'unreadable');
    assert.equal(evaluate(ops([[0x22]]), env({})), undefined, 'stack underflow');
    assert.equal(evaluate(ops([[0xa3]]), env({})), undefined, 'DW_OP_entry_value');
    assert.equal(evaluate(ops([[0x9c]]), env({})), undefined, 'no CFA');
  });
});
