/**
 * Lifter behaviour the differential tests cannot see through Unicorn: block boundaries
 * (NoDecode, rep-string blocks, the size limit), jump kinds, the environment helpers (cpuid,
 * rdtsc), alignment traps QEMU does not raise, the in-block flag specialisation, and the IR
 * checker on everything lifted.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { GuestState } from '../../../engine/jit/guest-state';
import { interpret } from '../../../engine/jit/interp';
import { IRSB } from '../../../engine/jit/ir';
import { checkIRSB } from '../../../engine/jit/ir-check';
import { ppIRSB } from '../../../engine/jit/ir-print';
import { decode, isFailure } from '../../../engine/jit/lift/decode';
import { liftBlock } from '../../../engine/jit/lift/lift';
import { ViewMemory } from '../../../engine/jit/memory';

const AT = 0x401000;

function lift(hex: string, maxInsns?: number, at = AT, chase = false): IRSB {
  const code = Buffer.from(hex.replace(/\s/g, ''), 'hex');
  const sb = liftBlock((a, n) => (a >= AT && a < AT + code.length ? code.subarray(a - AT, a - AT + n) : undefined), at, { maxInsns, chase });
  assert.deepEqual(checkIRSB(sb), [], ppIRSB(sb));
  return sb;
}

const nextOf = (sb: IRSB): bigint => (sb.next.tag === 'const' ? sb.next.v : -1n);

describe('lifter', () => {
  it('an uncovered first instruction gives an empty NoDecode block; later ones end the block before them', () => {
    const fld = lift('d9 c0'); // fld st(0): x87
    assert.equal(fld.jk, 'NoDecode');
    assert.equal(fld.insns, 0);
    assert.equal(nextOf(fld), BigInt(AT));
    const mixed = lift('4801d8 d9c0');
    assert.equal(mixed.jk, 'Boring');
    assert.equal(mixed.insns, 1);
    assert.equal(nextOf(mixed), BigInt(AT + 3));
  });

  it('jump kinds: call, ret, syscall, int3 (after it), ud2 (at it)', () => {
    assert.equal(lift('e8 00000000').jk, 'Call');
    assert.equal(lift('c3').jk, 'Ret');
    const sys = lift('0f05');
    assert.deepEqual([sys.jk, nextOf(sys)], ['Syscall', BigInt(AT + 2)]);
    const trap = lift('cc');
    assert.deepEqual([trap.jk, nextOf(trap)], ['SigTRAP', BigInt(AT + 1)]);
    const ill = lift('0f0b');
    assert.deepEqual([ill.jk, nextOf(ill)], ['SigILL', BigInt(AT)]);
  });

  it('a rep-prefixed string instruction is a block of its own that loops back to itself', () => {
    const before = lift('4801d8 f3a4');
    assert.deepEqual([before.insns, nextOf(before)], [1, BigInt(AT + 3)]);
    const rep = lift('f3a4 90', undefined, AT);
    assert.deepEqual([rep.insns, rep.jk, nextOf(rep)], [1, 'Boring', BigInt(AT)]);
    assert.equal(rep.stmts.filter((s) => s.tag === 'exit').length, 2, 'rcx = 0 on entry, and the end of the repetition');
  });

  it('conditional branches are side exits and lifting goes on; the size limit ends a block', () => {
    const sb = lift('4839d8 7c02 ffc0 ffc1');
    assert.equal(sb.insns, 4);
    assert.equal(sb.stmts.filter((s) => s.tag === 'exit').length, 1);
    assert.equal(lift('90 90 90 90 90', 3).insns, 3);
  });

  it('with chase, a direct jmp continues the block at its target; a jump to the start or back into the block ends it', () => {
    // add rax, rbx; jmp +2; (ud2); add rax, rcx; jmp -12 (back to the first add, the block's start)
    const code = '4801d8 eb02 0f0b 4801c8 ebf4';
    const chased = lift(code, undefined, AT, true);
    assert.equal(chased.insns, 4);
    assert.deepEqual([chased.jk, nextOf(chased)], ['Boring', BigInt(AT)]);
    assert.equal(chased.len, 5, 'the first range ends after the chased jmp');
    assert.deepEqual(chased.stmts.flatMap((s) => (s.tag === 'imark' ? [s.addr - AT] : [])), [0, 3, 7, 10]);
    // From the second add, the jmp back goes to an address outside the block: chased, then the
    // jmp +2 leads to the block's own start (ends it).
    const inner = lift(code, undefined, AT + 7, true);
    assert.deepEqual(inner.stmts.flatMap((s) => (s.tag === 'imark' ? [s.addr - AT] : [])), [7, 10, 0, 3]);
    assert.equal(nextOf(inner), BigInt(AT + 7));
    const plain = lift(code);
    assert.deepEqual([plain.insns, nextOf(plain)], [2, BigInt(AT + 7)]);
  });

  it('cmp; jl is one signed comparison of the operands, not a flags helper', () => {
    const sb = lift('4839d8 7c02');
    const text = ppIRSB(sb);
    assert.match(text, /CmpLTS:I64/);
    assert.doesNotMatch(text, /amd64_cond/);
    // Without the cmp in the block, the generic helper reads the thunk.
    assert.match(ppIRSB(lift('7c02')), /amd64_cond/);
  });

  it('cpuid and rdtsc call the environment and zero-extend their 32-bit results', () => {
    const s = new GuestState();
    s.rip = AT;
    s.setGpr(0, 0xffffffff00000001n);
    s.setGpr(3, 0xffffffffffffffffn);
    let asked: bigint[] = [];
    const env = {
      mem: new ViewMemory({ readView: () => undefined, writeView: () => undefined }),
      dirty: {
        cpuid: (_ia: number, ...args: bigint[]) => { asked = args; return 0x44444444_33333333_22222222_11111111n; },
        rdtsc: () => 0x1234567_89abcdefn,
      },
    };
    interpret(lift('0fa2 0f31'), s, env);
    assert.deepEqual(asked, [1n, 0n], 'leaf = eax, subleaf = ecx (low 32 bits)');
    assert.equal(s.gpr(3), 0x22222222n);
    assert.equal(s.gpr(1), 0x33333333n);
    assert.equal(s.gpr(0), 0x89abcdefn);
    assert.equal(s.gpr(2), 0x1234567n);
  });

  it('fnstcw stores the x87 control word the environment reports; other x87 instructions stay on Unicorn', () => {
    const s = new GuestState();
    s.rip = AT;
    s.setGpr(0, 0x10008n);
    const page = new Uint8Array(0x1000).fill(0xaa);
    const v = (a: number, n: number): Uint8Array | undefined => (a >= 0x10000 && a + n <= 0x11000 ? page.subarray(a - 0x10000, a - 0x10000 + n) : undefined);
    const env = { mem: new ViewMemory({ readView: v, writeView: v }), dirty: { fpcw: () => 0x037fn } };
    interpret(lift('d938'), s, env); // fnstcw [rax]
    assert.deepEqual([...page.subarray(7, 11)], [0xaa, 0x7f, 0x03, 0xaa]);
    assert.equal(lift('d928').stmts.some((x) => x.tag === 'exit' || x.tag === 'dirty'), false, 'fldcw is not lifted');
    assert.equal(lift('d928').jk, 'NoDecode');
  });

  it('misaligned legacy-SSE memory operands trap (the CPU raises #GP; QEMU does not check)', () => {
    const s = new GuestState();
    s.rip = AT;
    s.setGpr(0, 0x10001n);
    const page = new Uint8Array(0x1000);
    const v = (a: number, n: number): Uint8Array | undefined => (a >= 0x10000 && a + n <= 0x11000 ? page.subarray(a - 0x10000, a - 0x10000 + n) : undefined);
    const env = { mem: new ViewMemory({ readView: v, writeView: v }), dirty: {} };
    for (const hex of ['0f2800', '660f6f00', '660fef00', '660f7f00']) { // movaps, movdqa, pxor, movdqa store
      const ex = interpret(lift(hex), s.clone(), env);
      assert.deepEqual([ex.jk, ex.next], ['SigSEGV', AT], hex);
    }
    for (const hex of ['0f1000', 'f30f6f00', '660fd600']) { // movups, movdqu, movq: unaligned is fine
      assert.equal(interpret(lift(hex), s.clone(), env).jk, 'Boring', hex);
    }
  });

  it('decodes prefixes, REX and operand sizes in one place', () => {
    const d = decode(Buffer.from('6641 0fb6 44 8d 10'.replace(/ /g, ''), 'hex'), AT); // movzx ax, byte [r13+rcx*4+0x10]
    assert.ok(!isFailure(d));
    if (isFailure(d)) return;
    assert.equal(d.mnem, 'movzx');
    assert.equal(d.opsize, 2);
    assert.deepEqual(d.ops[1], { k: 'mem', size: 1, m: { base: 13, index: 1, scale: 4, disp: 0x10, rip: false, seg: undefined, addr32: false } });
    const push = decode(Buffer.from('6641 50'.replace(/ /g, ''), 'hex'), AT); // push r8w
    assert.ok(!isFailure(push) && push.opsize === 2);
    const rex = decode(Buffer.from('40 88 e0'.replace(/ /g, ''), 'hex'), AT); // mov al, spl
    assert.ok(!isFailure(rex) && rex.ops[1].k === 'gpr' && rex.ops[1].reg === 4 && !rex.ops[1].hi8);
    const ah = decode(Buffer.from('88 e0'.replace(/ /g, ''), 'hex'), AT); // mov al, ah
    assert.ok(!isFailure(ah) && ah.ops[1].k === 'gpr' && ah.ops[1].reg === 0 && ah.ops[1].hi8);
    assert.deepEqual(decode(Buffer.from('48', 'hex'), AT), { fail: 'truncated' });
  });
});
