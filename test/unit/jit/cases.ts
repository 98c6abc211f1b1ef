/**
 * Hand-picked cases for the differential tests: control flow across blocks, flags that cross a
 * block boundary (the generic thunk helpers), counts of zero, string instructions with DF and
 * rcx edge values, stack-pointer corner cases, faults, and the floating-point corners (NaN
 * propagation, out-of-range conversions, double rounding).
 *
 * Each case names its registers (others are random), runs from several random states, and is
 * compared by runCase like the random ones.
 */
import { DATA } from './machine';

/** General registers by name, for case setups. */
export const REG = { rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7, r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13 } as const;

export interface HandCase {
  readonly name: string;
  readonly asm: readonly string[];
  readonly regs?: Partial<Record<keyof typeof REG, bigint>>;
  /** RFLAGS (OSZAPC and DF) to start from; random when absent. */
  readonly rflags?: bigint;
  /** xmm registers as [low, high] 64-bit halves. */
  readonly xmm?: Record<number, readonly [bigint, bigint]>;
  readonly fsBase?: number;
  /** Stop after this many instructions instead of at the end of the code. */
  readonly count?: number;
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
/** The IEEE bits of a double. */
export const dbl = (d: number): bigint => ((F64[0] = d), U64[0]);
const QNAN_PAYLOAD = 0x7ff8000000001234n;
const SNAN = 0x7ff0000000000042n;
const neg = (v: number): bigint => BigInt.asUintN(64, BigInt(v));

export const CASES: readonly HandCase[] = [
  // ---- control flow: calls, returns, indirect jumps, loops
  { name: 'call rel32 and ret', asm: ['call 1f', 'jmp 2f', '1: mov eax, 7', 'ret', '2: nop'] },
  { name: 'call through a register', asm: ['lea rax, [rip + 1f]', 'call rax', 'jmp 2f', '1: inc rbx', 'ret', '2: nop'] },
  { name: 'call through memory', asm: ['lea rax, [rip + 1f]', 'mov [r15], rax', 'call qword ptr [r15]', 'jmp 2f', '1: ret', '2: nop'] },
  { name: 'ret imm16', asm: ['push 1', 'push 2', 'call 1f', 'jmp 2f', '1: ret 16', '2: nop'] },
  { name: 'indirect jmp', asm: ['lea rax, [rip + 1f]', 'jmp rax', 'ud2', '1: nop'] },
  { name: 'jmp through rip-relative memory', asm: ['lea rax, [rip + 1f]', 'mov [r15 + 8], rax', 'jmp qword ptr [r15 + 8]', 'ud2', '1: nop'] },
  { name: 'counted loop (dec; jnz)', asm: ['mov ecx, 10', 'xor eax, eax', '1: add eax, ecx', 'dec ecx', 'jnz 1b'] },
  { name: 'loop on a signed compare', asm: ['mov rcx, -5', 'xor eax, eax', '1: sub rax, rcx', 'inc rcx', 'cmp rcx, 3', 'jl 1b'] },
  { name: 'loop on an unsigned compare', asm: ['xor ecx, ecx', '1: add rcx, 7', 'cmp rcx, 40', 'jb 1b', 'seta al'] },
  { name: 'jcc not taken, then fall through', asm: ['cmp rax, rax', 'jne 1f', 'mov ebx, 1', '1: nop'] },

  // ---- flags that cross a block boundary (generic helpers) and in-block specialisations
  ...['cmp rax, rbx', 'sub eax, ebx', 'add rax, rbx', 'and rax, rbx', 'test bl, al', 'inc ax', 'dec eax', 'neg rax',
    'shl rax, 3', 'shr eax, 1', 'sar rax, cl', 'imul rax, rbx', 'mul rbx', 'adc rax, rbx', 'sbb al, bl', 'ror eax, 1',
    'rol rax, cl', 'bt rax, rbx', 'ucomisd xmm0, xmm1'].map((op): HandCase => ({
    name: `conditions after ${op}, in the block and after it`,
    asm: [op, 'seto r8b', 'setb r9b', 'sete r10b', 'setbe r11b', 'sets r12b', 'setp r13b', 'setl sil', 'setle dil',
      'jmp 1f', '1: setno r8b', 'setae r9b', 'setne r10b', 'seta r11b', 'setns r12b', 'setnp r13b', 'setge sil', 'setg dil'],
    regs: { rcx: 0x3fn },
  })),
  { name: 'adc chain across blocks', asm: ['add rax, rbx', 'jmp 1f', '1: adc rcx, rdx', 'adc r8, r9', 'sbb r10, r11'] },
  { name: 'inc preserves CF across a block', asm: ['cmp rax, rbx', 'inc rcx', 'jmp 1f', '1: setb al', 'seto bl', 'dec rdx', 'adc rsi, 0'] },
  { name: 'cmov on flags from the previous block', asm: ['cmp eax, ebx', 'jmp 1f', '1: cmovl ecx, edx', 'cmovae r8, r9', 'cmovp r10w, r11w'] },

  // ---- zero and large counts
  { name: 'shift by cl = 0 keeps flags', asm: ['cmp rax, rbx', 'shl rdx, cl', 'setb al', 'sete ah', 'seto bl'], regs: { rcx: 0n } },
  { name: 'shift of a 32-bit register by cl = 32 keeps flags, zero-extends', asm: ['cmp rax, rbx', 'shl edx, cl', 'setb al', 'sete ah'], regs: { rcx: 32n } },
  { name: 'rotate of a byte by 8 sets CF only', asm: ['cmp rax, rbx', 'rol al, 8', 'setb bl', 'sete bh'] },
  { name: 'rotate by cl = 0', asm: ['cmp rax, rbx', 'ror rdx, cl', 'setb al', 'seto bl'], regs: { rcx: 0x40n } },
  { name: 'sar by 63 and shr by 1 of a negative', asm: ['sar rax, 63', 'seto bl', 'shr rdx, 1', 'seto cl', 'setb ch'], regs: { rdx: neg(-8) } },
  { name: 'shl by 1 overflows', asm: ['shl eax, 1', 'seto bl', 'setb bh'], regs: { rax: 0x40000000n } },
  { name: 'bsf/bsr of zero keep the destination', asm: ['bsf rax, rbx', 'sete cl', 'bsr edx, ebx', 'sete ch'], regs: { rbx: 0n } },
  { name: 'bsf/bsr of a value', asm: ['bsf rax, rbx', 'bsr rdx, rbx', 'bsr si, bx'], regs: { rbx: 0x0008_4000_0000_0000n } },
  { name: 'bt/bts with a negative register offset into memory', asm: ['mov rax, -5', 'bts qword ptr [r15], rax', 'setb bl', 'mov rax, 100', 'btr dword ptr [r15], eax', 'setb bh'] },

  // ---- string instructions
  { name: 'rep movsb with rcx = 0', asm: ['rep movsb'], regs: { rcx: 0n } },
  { name: 'rep movsb forward', asm: ['rep movsb'], regs: { rcx: 13n }, rflags: 2n },
  { name: 'rep movsq backward (DF = 1)', asm: ['rep movsq'], regs: { rcx: 5n }, rflags: 0x402n },
  { name: 'rep stosd', asm: ['rep stosd'], regs: { rcx: 9n, rax: 0x1122334455667788n }, rflags: 2n },
  { name: 'repe cmpsb stops at a difference', asm: ['lea rdi, [rsi + 64]', 'mov ecx, 20', 'repe cmpsb', 'setb al', 'sete ah'] },
  { name: 'repne scasb finds a byte', asm: ['mov al, byte ptr [rdi + 9]', 'mov ecx, 30', 'repne scasb', 'sete bl'], rflags: 2n },
  { name: 'lodsw and stosw', asm: ['lodsw', 'stosw', 'lodsq', 'cld', 'stosb'] },
  { name: 'std, movsb, cld', asm: ['std', 'movsb', 'movsd', 'cld', 'movsw'] },

  // ---- the stack pointer
  { name: 'push rsp pushes the old value', asm: ['push rsp', 'pop rax'] },
  { name: 'pop rsp', asm: ['mov [rsp - 8], r15', 'sub rsp, 8', 'pop rsp'] },
  { name: 'pop into memory addressed by rsp', asm: ['push 5', 'push 6', 'pop qword ptr [rsp]'] },
  { name: 'push/pop 16-bit', asm: ['push ax', 'pop bx', 'push -3', 'pop rcx'] },
  { name: 'leave', asm: ['mov rbp, rsp', 'sub rbp, 32', 'mov [rbp], rbp', 'leave'] },
  { name: 'pushfq/popfq round trip', asm: ['pushfq', 'pop rax', 'xor rax, 0x8d5', 'push rax', 'popfq', 'setb bl', 'sete bh', 'pushfq', 'pop rcx'], rflags: 0x2n },
  { name: 'popfq sets DF', asm: ['push 0x402', 'popfq', 'movsb', 'pushfq', 'pop rax'] },
  { name: 'lahf/sahf', asm: ['lahf', 'xor ah, 0xd5', 'sahf', 'setb bl', 'sete bh', 'sets cl', 'setp ch', 'lahf'] },

  // ---- register width rules
  { name: 'xchg eax, eax zero-extends; nop does not', asm: ['nop', 'mov rbx, rax', 'xchg eax, eax', 'xchg r8, rax'], regs: { rax: neg(-2) } },
  { name: 'high byte registers', asm: ['mov ah, bl', 'add ch, dh', 'movzx esi, bh', 'movsx edi, ah', 'sete ah', 'xchg ah, al'] },
  { name: 'cmovcc with a false condition still zero-extends', asm: ['cmp eax, eax', 'cmovne ebx, ecx'], regs: { rbx: neg(-1) } },
  { name: 'cbw cwde cdqe cwd cdq cqo', asm: ['cbw', 'mov rbx, rax', 'cwde', 'mov rcx, rax', 'cdqe', 'cwd', 'mov r8, rdx', 'cdq', 'mov r9, rdx', 'cqo'], regs: { rax: 0x80n } },
  { name: 'xor r,r and sub r,r idioms', asm: ['xor eax, eax', 'sub rbx, rbx', 'xor cl, cl', 'setz dl', 'pxor xmm3, xmm3'] },

  // ---- multiply and divide
  { name: 'byte mul and imul', asm: ['mul bl', 'mov ecx, eax', 'imul dl', 'seto sil', 'setb dil'], regs: { rax: 0xf0n, rbx: 0x11n, rdx: 0x80n } },
  { name: 'imul r, r/m, imm8 negative', asm: ['imul rax, rbx, -3', 'imul ecx, dword ptr [r15], 1000', 'imul dx, si, 0x7fff', 'seto bl'] },
  { name: 'div by zero', asm: ['xor ecx, ecx', 'div ecx'] },
  { name: 'idiv overflow', asm: ['mov rax, 0x8000000000000000', 'cqo', 'mov rcx, -1', 'idiv rcx'] },
  { name: 'idiv with negative operands', asm: ['mov eax, -7', 'cdq', 'mov ecx, 2', 'idiv ecx', 'mov ebx, eax', 'mov eax, 7', 'cdq', 'mov ecx, -2', 'idiv ecx'] },
  { name: 'div 128/64 with a high part', asm: ['mov rdx, 3', 'mov rax, 5', 'mov rcx, 0x10000000000', 'div rcx'] },
  { name: 'neg of 0 and of INT_MIN', asm: ['xor eax, eax', 'neg eax', 'setb bl', 'mov ecx, 0x80000000', 'neg ecx', 'seto bh'] },

  // ---- atomics
  { name: 'cmpxchg with memory, equal and not', asm: ['mov rax, [r15]', 'cmpxchg [r15], rbx', 'sete cl', 'cmpxchg [r15], rdx', 'sete ch'] },
  { name: 'lock xadd', asm: ['lock xadd dword ptr [r15 + 4], eax', 'xadd rbx, rcx'] },

  // ---- segments, nops, endbr
  { name: 'fs-relative loads and stores', asm: ['mov rax, fs:[0x28]', 'mov fs:[0x30], rbx', 'lea rcx, [rip]'], fsBase: DATA + 0x100 },
  { name: 'lea ignores a segment override', asm: ['lea rax, fs:[rbx + 8]', 'lea ecx, gs:[rbx + rdx * 2]'], fsBase: DATA + 0x100 },
  { name: 'endbr64 and long nops', asm: ['endbr64', 'nop dword ptr [rax + rax]', 'nopw cs:[rax + rax]', 'xchg ax, ax', 'pause'] },

  // ---- SSE moves and integer lanes
  { name: 'movq/movd between xmm and general registers', asm: ['movq xmm0, rax', 'movd xmm1, ebx', 'movq rcx, xmm2', 'movd edx, xmm3', 'movq xmm4, xmm5', 'movq [r15], xmm6'] },
  { name: 'movss/movsd memory loads zero, register moves merge', asm: ['movsd xmm0, [r15]', 'movss xmm1, [r15 + 8]', 'movsd xmm2, xmm3', 'movss xmm4, xmm5', 'movsd [r15 + 16], xmm6'] },
  { name: 'pmovmskb after pcmpeqb', asm: ['movdqa xmm0, [r15]', 'pcmpeqb xmm0, [r15 + 16]', 'pmovmskb eax, xmm0', 'pxor xmm1, xmm1', 'pcmpeqb xmm1, xmm2', 'pmovmskb ecx, xmm1'] },
  { name: 'byte shifts of xmm by 0, 5, 17', asm: ['pslldq xmm0, 5', 'psrldq xmm1, 17', 'psrldq xmm2, 0', 'psrlq xmm3, 63', 'psraw xmm4, 20'] },
  { name: 'lane shifts by an xmm count', asm: ['psrlw xmm0, xmm1', 'psllq xmm2, xmm3', 'psrad xmm4, xmm5'], xmm: { 1: [3n, 0n], 3: [64n, 0n], 5: [0x100000000n, 0n] } },
  { name: 'shuffles and unpacks', asm: ['pshufd xmm0, xmm1, 0x1b', 'pshuflw xmm2, xmm3, 0xe4', 'pshufhw xmm4, xmm5, 0x39', 'punpcklbw xmm6, xmm7', 'punpckhqdq xmm8, xmm9', 'unpcklps xmm10, xmm11'] },
  { name: 'saturating and min/max bytes', asm: ['paddusb xmm0, xmm1', 'psubusb xmm2, xmm3', 'pminub xmm4, xmm5', 'pmaxub xmm6, xmm7', 'pmuludq xmm8, xmm9'] },
  { name: 'movhps/movlps/movhlps/movlhps', asm: ['movhps xmm0, [r15]', 'movlps xmm1, [r15 + 8]', 'movhlps xmm2, xmm3', 'movlhps xmm4, xmm5', 'movhps [r15 + 32], xmm6', 'movlpd [r15 + 48], xmm7'] },

  // ---- floating point corners
  { name: 'cvttsd2si out of range and NaN', asm: ['cvttsd2si rax, xmm0', 'cvttsd2si ebx, xmm1', 'cvttsd2si rcx, xmm2', 'cvtsd2si edx, xmm3'], xmm: { 0: [dbl(1e300), 0n], 1: [dbl(NaN), 0n], 2: [dbl(-9.3e18), 0n], 3: [dbl(2.5), 0n] } },
  { name: 'cvtsd2si rounds half to even', asm: ['cvtsd2si rax, xmm0', 'cvtsd2si rbx, xmm1', 'cvtsd2si rcx, xmm2'], xmm: { 0: [dbl(2.5), 0n], 1: [dbl(-3.5), 0n], 2: [dbl(-0.5), 0n] } },
  { name: 'cvtsi2ss of a 64-bit value rounds once', asm: ['cvtsi2ss xmm0, rax', 'cvtsi2ss xmm1, rbx', 'cvtsi2sd xmm2, rcx', 'cvtsi2sd xmm3, edx'], regs: { rax: 0x7fffff4000000001n, rbx: neg(-1), rcx: 0x7fffffffffffffffn, rdx: 0x80000000n } },
  { name: 'NaN propagation in scalar arithmetic', asm: ['addsd xmm0, xmm1', 'mulsd xmm2, xmm3', 'subsd xmm4, xmm5', 'divsd xmm6, xmm7'], xmm: { 0: [QNAN_PAYLOAD, 0n], 1: [SNAN, 0n], 2: [dbl(1), 0n], 3: [SNAN, 0n], 4: [dbl(Infinity), 0n], 5: [dbl(Infinity), 0n], 6: [0n, 0n], 7: [0n, 0n] } },
  { name: 'sqrtsd of a negative, min/max with NaN and zeros', asm: ['sqrtsd xmm0, xmm1', 'minsd xmm2, xmm3', 'maxsd xmm4, xmm5', 'minsd xmm6, xmm7'], xmm: { 1: [dbl(-4), 0n], 2: [dbl(NaN), 0n], 3: [dbl(1), 0n], 4: [dbl(0), 0n], 5: [dbl(-0), 0n], 6: [dbl(1), 0n], 7: [dbl(NaN), 0n] } },
  { name: 'ucomisd unordered, less, equal, greater', asm: ['ucomisd xmm0, xmm1', 'setp al', 'sete ah', 'setb bl', 'comisd xmm2, xmm3', 'seta cl', 'ucomiss xmm4, xmm5', 'setb ch'], xmm: { 0: [dbl(NaN), 0n], 2: [dbl(3), 0n], 3: [dbl(-3), 0n], 4: [0x3f800000n, 0n], 5: [0x40000000n, 0n] } },
  { name: 'float/double conversions with NaN payloads', asm: ['cvtsd2ss xmm0, xmm1', 'cvtss2sd xmm2, xmm3', 'cvtss2sd xmm4, xmm5'], xmm: { 1: [QNAN_PAYLOAD | (1n << 63n), 0n], 3: [0x7f812345n, 0n], 5: [0x3eaaaaabn, 0n] } },
  { name: 'single-precision arithmetic', asm: ['addss xmm0, xmm1', 'mulss xmm2, xmm3', 'divss xmm4, xmm5', 'sqrtss xmm6, xmm7', 'cvttss2si eax, xmm0', 'cvtss2si rbx, xmm2'], xmm: { 0: [0x3f800000n, 0n], 1: [0x33800000n, 0n], 2: [0x3fc00000n, 0n], 3: [0x40490fdbn, 0n], 4: [0x3f800000n, 0n], 5: [0x40400000n, 0n], 7: [0x40000000n, 0n] } },
  { name: 'stmxcsr', asm: ['stmxcsr [r15]', 'mov eax, [r15]'] },
];
