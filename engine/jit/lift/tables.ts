/**
 * The x86-64 opcode maps the lifter covers, as data: each slot holds an entry string
 * "mnemonic Operands flags" (operands in SDM notation, see operands.ts), a group selected by
 * ModRM.reg, a choice by mandatory prefix (none/66/F3/F2, for SSE), or a choice by ModRM.mod
 * (register form vs memory form). The meaning of each mnemonic is in the semantics tables
 * (sem-*.ts); a slot that is absent lifts to a NoDecode exit and runs on Unicorn.
 *
 * Mnemonics are the semantics' keys, so families share one: `jcc`, `setcc`, `cmovcc` take their
 * condition from the opcode's low nibble; string instructions take their size from the opcode;
 * instructions that differ only in how software reads the bits share one (movapd is movaps,
 * movdqu is movups, andpd is pand).
 */

/** A choice by mandatory prefix (the last of F2/F3 wins, then 66). */
export interface PfxSlot { readonly pfx: { readonly none?: Slot; readonly p66?: Slot; readonly f3?: Slot; readonly f2?: Slot } }
/** A choice by ModRM.reg (/0…/7). */
export interface GrpSlot { readonly grp: readonly (Slot | undefined)[] }
/** A choice by ModRM.mod: register form or memory form. */
export interface ModSlot { readonly mod3?: Slot; readonly mem?: Slot }
export type Slot = string | PfxSlot | GrpSlot | ModSlot;

/** An opcode map: slots by opcode byte. */
export type OpcodeMap = Record<number, Slot>;

/** Eight ALU operations in encoding order (00-3F, group 1). */
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
/**
 * Shift/rotate group 2 by ModRM.reg. rcl/rcr (rotate through carry) are left to Unicorn: compilers
 * hardly emit them. /6 is an undocumented alias of shl.
 */
const SHIFTS = ['rol', 'ror', undefined, undefined, 'shl', 'shr', undefined, 'sar'];

const grp = (names: readonly (string | undefined)[], ops: string, flags = ''): GrpSlot =>
  ({ grp: names.map((n) => (n === undefined ? undefined : `${n} ${ops} ${flags}`.trim())) });

function range(into: OpcodeMap, first: number, count: number, entry: string | ((i: number) => Slot)): void {
  for (let i = 0; i < count; i++) into[first + i] = typeof entry === 'string' ? entry : entry(i);
}

/** The one-byte opcode map. */
export const ONE_BYTE: OpcodeMap = (() => {
  const m: OpcodeMap = {};
  ALU.forEach((op, i) => {
    const base = i * 8;
    m[base] = `${op} Eb,Gb`;
    m[base + 1] = `${op} Ev,Gv`;
    m[base + 2] = `${op} Gb,Eb`;
    m[base + 3] = `${op} Gv,Ev`;
    m[base + 4] = `${op} AL,Ib`;
    m[base + 5] = `${op} rAX,Iz`;
  });
  range(m, 0x50, 8, 'push Zv d64');
  range(m, 0x58, 8, 'pop Zv d64');
  m[0x63] = 'movsxd Gv,Ed';
  m[0x68] = 'push Iz d64';
  m[0x69] = 'imul3 Gv,Ev,Iz';
  m[0x6a] = 'push Ib d64';
  m[0x6b] = 'imul3 Gv,Ev,Ib';
  range(m, 0x70, 16, 'jcc Jb f64');
  m[0x80] = grp(ALU, 'Eb,Ib');
  m[0x81] = grp(ALU, 'Ev,Iz');
  m[0x83] = grp(ALU, 'Ev,Ib');
  m[0x84] = 'test Eb,Gb';
  m[0x85] = 'test Ev,Gv';
  m[0x86] = 'xchg Eb,Gb';
  m[0x87] = 'xchg Ev,Gv';
  m[0x88] = 'mov Eb,Gb';
  m[0x89] = 'mov Ev,Gv';
  m[0x8a] = 'mov Gb,Eb';
  m[0x8b] = 'mov Gv,Ev';
  m[0x8d] = 'lea Gv,M';
  m[0x8f] = grp(['pop'], 'Ev', 'd64');
  // 90 is nop (or xchg r8,rax with REX.B; F3 90 is pause): the semantics look at REX.B.
  m[0x90] = 'xchg Zv,rAX';
  range(m, 0x91, 7, 'xchg Zv,rAX');
  m[0x98] = 'cwde';
  m[0x99] = 'cdq';
  m[0x9c] = 'pushf d64';
  m[0x9d] = 'popf d64';
  m[0x9e] = 'sahf';
  m[0x9f] = 'lahf';
  m[0xa4] = 'movs';
  m[0xa5] = 'movs';
  m[0xa6] = 'cmps';
  m[0xa7] = 'cmps';
  m[0xa8] = 'test AL,Ib';
  m[0xa9] = 'test rAX,Iz';
  m[0xaa] = 'stos';
  m[0xab] = 'stos';
  m[0xac] = 'lods';
  m[0xad] = 'lods';
  m[0xae] = 'scas';
  m[0xaf] = 'scas';
  range(m, 0xb0, 8, 'mov Zb,Ib');
  range(m, 0xb8, 8, 'mov Zv,Iv');
  m[0xc0] = grp(SHIFTS, 'Eb,Ib');
  m[0xc1] = grp(SHIFTS, 'Ev,Ib');
  m[0xc2] = 'ret Iw f64 end';
  m[0xc3] = 'ret f64 end';
  m[0xc6] = grp(['mov'], 'Eb,Ib');
  m[0xc7] = grp(['mov'], 'Ev,Iz');
  m[0xc9] = 'leave d64';
  m[0xcc] = 'int3 end';
  m[0xd0] = grp(SHIFTS, 'Eb,1');
  m[0xd1] = grp(SHIFTS, 'Ev,1');
  m[0xd2] = grp(SHIFTS, 'Eb,CL');
  m[0xd3] = grp(SHIFTS, 'Ev,CL');
  // x87 runs on Unicorn, except fnstcw, which glibc's printf runs for every float it formats.
  m[0xd9] = { mem: { grp: [undefined, undefined, undefined, undefined, undefined, undefined, undefined, 'fnstcw Mw'] } };
  m[0xe8] = 'call Jz f64 end';
  m[0xe9] = 'jmp Jz f64 end';
  m[0xeb] = 'jmp Jb f64 end';
  m[0xf5] = 'cmc';
  m[0xf6] = { grp: ['test Eb,Ib', undefined, 'not Eb', 'neg Eb', 'mul Eb', 'imul1 Eb', 'div Eb', 'idiv Eb'] };
  m[0xf7] = { grp: ['test Ev,Iz', undefined, 'not Ev', 'neg Ev', 'mul Ev', 'imul1 Ev', 'div Ev', 'idiv Ev'] };
  m[0xf8] = 'clc';
  m[0xf9] = 'stc';
  m[0xfc] = 'cld';
  m[0xfd] = 'std';
  m[0xfe] = grp(['inc', 'dec'], 'Eb');
  m[0xff] = { grp: ['inc Ev', 'dec Ev', 'call Ev f64 end', undefined, 'jmp Ev f64 end', undefined, 'push Ev d64'] };
  return m;
})();

/** The two-byte map (0F xx). */
export const TWO_BYTE: OpcodeMap = (() => {
  const m: OpcodeMap = {};
  m[0x05] = 'syscall end';
  m[0x0b] = 'ud2 end';
  // prefetch, prefetchw, prefetchwt1; prefetchnta…prefetcht2 and hint nops: memory forms only
  // (QEMU raises #UD on the register forms).
  m[0x0d] = { mem: grp(['nop', 'nop', 'nop'], 'Ev') };
  m[0x18] = { mem: grp(['nop', 'nop', 'nop', 'nop', 'nop', 'nop', 'nop', 'nop'], 'Ev') };
  m[0x1e] = { pfx: { f3: 'nop modrm', none: 'nop Ev', p66: 'nop Ev' } }; // endbr64/endbr32 are F3 0F 1E FA/FB
  m[0x1f] = 'nop Ev';
  m[0x10] = { pfx: { none: 'movups Vps,Wps', p66: 'movups Vpd,Wpd', f3: 'movss Vss,Wss', f2: 'movsd Vsd,Wsd' } };
  m[0x11] = { pfx: { none: 'movups Wps,Vps', p66: 'movups Wpd,Vpd', f3: 'movss Wss,Vss', f2: 'movsd Wsd,Vsd' } };
  m[0x12] = { pfx: { p66: { mem: 'movlp Vq,Wq' }, none: { mem: 'movlp Vq,Wq', mod3: 'movhlps Vq,Wdq' } } };
  m[0x13] = { pfx: { p66: { mem: 'movlpst Wq,Vq' }, none: { mem: 'movlpst Wq,Vq' } } };
  m[0x14] = { pfx: { none: 'unpcklps Vps,Wps', p66: 'unpcklpd Vpd,Wpd' } };
  m[0x16] = { pfx: { p66: { mem: 'movhp Vq,Wq' }, none: { mem: 'movhp Vq,Wq', mod3: 'movlhps Vdq,Wq' } } };
  m[0x17] = { pfx: { p66: { mem: 'movhpst Wq,Vdq' }, none: { mem: 'movhpst Wq,Vdq' } } };
  m[0x28] = { pfx: { none: 'movaps Vps,Wps', p66: 'movaps Vpd,Wpd' } }; // movapd: the same bits
  m[0x29] = { pfx: { none: 'movaps Wps,Vps', p66: 'movaps Wpd,Vpd' } };
  m[0x2a] = { pfx: { f3: 'cvtsi2ss Vss,Ey', f2: 'cvtsi2sd Vsd,Ey' } };
  m[0x2c] = { pfx: { f3: 'cvttss2si Gy,Wss', f2: 'cvttsd2si Gy,Wsd' } };
  m[0x2d] = { pfx: { f3: 'cvtss2si Gy,Wss', f2: 'cvtsd2si Gy,Wsd' } };
  m[0x2e] = { pfx: { none: 'ucomiss Vss,Wss', p66: 'ucomisd Vsd,Wsd' } };
  m[0x2f] = { pfx: { none: 'ucomiss Vss,Wss', p66: 'ucomisd Vsd,Wsd' } }; // comis*: same flags, differ only on QNaN exceptions
  m[0x31] = 'rdtsc';
  range(m, 0x40, 16, 'cmovcc Gv,Ev');
  m[0x51] = { pfx: { f3: 'sqrtss Vss,Wss', f2: 'sqrtsd Vsd,Wsd' } };
  m[0x54] = { pfx: { none: 'pand Vps,Wps', p66: 'pand Vpd,Wpd' } };
  m[0x55] = { pfx: { none: 'pandn Vps,Wps', p66: 'pandn Vpd,Wpd' } };
  m[0x56] = { pfx: { none: 'por Vps,Wps', p66: 'por Vpd,Wpd' } };
  m[0x57] = { pfx: { none: 'pxor Vps,Wps', p66: 'pxor Vpd,Wpd' } };
  const scalar = (op: string) => ({ pfx: { f3: `${op}ss Vss,Wss`, f2: `${op}sd Vsd,Wsd` } });
  m[0x58] = scalar('add');
  m[0x59] = scalar('mul');
  m[0x5a] = { pfx: { f3: 'cvtss2sd Vsd,Wss', f2: 'cvtsd2ss Vss,Wsd' } };
  m[0x5c] = scalar('sub');
  m[0x5d] = scalar('min');
  m[0x5e] = scalar('div');
  m[0x5f] = scalar('max');
  const sse2 = (op: string, src = 'Wdq') => ({ pfx: { p66: `${op} Vdq,${src}` } });
  m[0x60] = sse2('punpcklbw');
  m[0x61] = sse2('punpcklwd');
  m[0x62] = sse2('punpckldq');
  m[0x64] = sse2('pcmpgtb');
  m[0x65] = sse2('pcmpgtw');
  m[0x66] = sse2('pcmpgtd');
  m[0x68] = sse2('punpckhbw');
  m[0x69] = sse2('punpckhwd');
  m[0x6a] = sse2('punpckhdq');
  m[0x6c] = sse2('punpcklqdq');
  m[0x6d] = sse2('punpckhqdq');
  m[0x6e] = { pfx: { p66: 'movd Vdq,Ey' } };
  m[0x6f] = { pfx: { p66: 'movaps Vdq,Wdq', f3: 'movups Vdq,Wdq' } }; // movdqa/movdqu
  m[0x70] = { pfx: { p66: 'pshufd Vdq,Wdq,Ib', f2: 'pshuflw Vdq,Wdq,Ib', f3: 'pshufhw Vdq,Wdq,Ib' } };
  m[0x71] = { pfx: { p66: { mod3: grp([undefined, undefined, 'psrlwi', undefined, 'psrawi', undefined, 'psllwi'], 'Udq,Ib') } } };
  m[0x72] = { pfx: { p66: { mod3: grp([undefined, undefined, 'psrldi', undefined, 'psradi', undefined, 'pslldi'], 'Udq,Ib') } } };
  m[0x73] = { pfx: { p66: { mod3: grp([undefined, undefined, 'psrlqi', 'psrldq', undefined, undefined, 'psllqi', 'pslldq'], 'Udq,Ib') } } };
  m[0x74] = sse2('pcmpeqb');
  m[0x75] = sse2('pcmpeqw');
  m[0x76] = sse2('pcmpeqd');
  m[0x7e] = { pfx: { p66: 'movdst Ey,Vdq', f3: 'movq Vdq,Wq' } }; // movd/movq r/m ← xmm; movq xmm ← xmm/m64
  m[0x7f] = { pfx: { p66: 'movaps Wdq,Vdq', f3: 'movups Wdq,Vdq' } };
  range(m, 0x80, 16, 'jcc Jz f64');
  range(m, 0x90, 16, 'setcc Eb');
  m[0xa2] = 'cpuid';
  m[0xa3] = 'bt Ev,Gv';
  m[0xa4] = 'shld Ev,Gv,Ib';
  m[0xa5] = 'shld Ev,Gv,CL';
  m[0xac] = 'shrd Ev,Gv,Ib';
  m[0xad] = 'shrd Ev,Gv,CL';
  m[0xab] = 'bts Ev,Gv';
  // ldmxcsr, stmxcsr, and lfence/mfence/sfence (nops on one CPU); with a prefix these encode
  // other instructions.
  m[0xae] = {
    pfx: {
      none: {
        grp: [undefined, undefined, { mem: 'ldmxcsr Md' }, { mem: 'stmxcsr Md' }, undefined,
          { mod3: 'nop modrm' }, { mod3: 'nop modrm' }, { mod3: 'nop modrm' }],
      },
    },
  };
  m[0xaf] = 'imul2 Gv,Ev';
  m[0xb0] = 'cmpxchg Eb,Gb';
  m[0xb1] = 'cmpxchg Ev,Gv';
  m[0xb3] = 'btr Ev,Gv';
  m[0xb6] = 'movzx Gv,Eb';
  m[0xb7] = 'movzx Gv,Ew';
  m[0xba] = grp([undefined, undefined, undefined, undefined, 'bt', 'bts', 'btr', 'btc'], 'Ev,Ib');
  m[0xbb] = 'btc Ev,Gv';
  // tzcnt/lzcnt (F3) execute as bsf/bsr on the CPU the guest is shown (no BMI1/ABM in CPUID).
  m[0xbc] = 'bsf Gv,Ev';
  m[0xbd] = 'bsr Gv,Ev';
  m[0xbe] = 'movsx Gv,Eb';
  m[0xbf] = 'movsx Gv,Ew';
  m[0xc0] = 'xadd Eb,Gb';
  m[0xc1] = 'xadd Ev,Gv';
  range(m, 0xc8, 8, 'bswap Zv');
  m[0xd1] = sse2('psrlw');
  m[0xd2] = sse2('psrld');
  m[0xd3] = sse2('psrlq');
  m[0xd4] = sse2('paddq');
  m[0xd6] = { pfx: { p66: 'movqst Wq,Vq' } };
  m[0xd7] = { pfx: { p66: 'pmovmskb Gd,Udq' } };
  m[0xd8] = sse2('psubusb');
  m[0xda] = sse2('pminub');
  m[0xdb] = sse2('pand');
  m[0xdc] = sse2('paddusb');
  m[0xde] = sse2('pmaxub');
  m[0xdf] = sse2('pandn');
  m[0xe1] = sse2('psraw');
  m[0xe2] = sse2('psrad');
  m[0xeb] = sse2('por');
  m[0xef] = sse2('pxor');
  m[0xf1] = sse2('psllw');
  m[0xf2] = sse2('pslld');
  m[0xf3] = sse2('psllq');
  m[0xf4] = sse2('pmuludq');
  m[0xf8] = sse2('psubb');
  m[0xf9] = sse2('psubw');
  m[0xfa] = sse2('psubd');
  m[0xfb] = sse2('psubq');
  m[0xfc] = sse2('paddb');
  m[0xfd] = sse2('paddw');
  m[0xfe] = sse2('paddd');
  return m;
})();

/** The maps by number: 0 one-byte, 1 0F, 2 0F38, 3 0F3A. */
export const MAPS: readonly OpcodeMap[] = [ONE_BYTE, TWO_BYTE, {}, {}];
