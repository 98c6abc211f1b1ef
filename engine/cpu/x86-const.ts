/** Unicorn 2 constants for x86-64, as defined by this build's headers (unicorn/unicorn.h, unicorn/x86.h). */

export const UC_ARCH_X86 = 4;
export const UC_MODE_64 = 8;

export const UC_PROT_NONE = 0;
export const UC_PROT_READ = 1;
export const UC_PROT_WRITE = 2;
export const UC_PROT_EXEC = 4;
export const UC_PROT_ALL = 7;

export const UC_HOOK_INTR = 1 << 0;
export const UC_HOOK_INSN = 1 << 1;
export const UC_HOOK_CODE = 1 << 2;
export const UC_HOOK_BLOCK = 1 << 3;
export const UC_HOOK_MEM_READ_UNMAPPED = 1 << 4;
export const UC_HOOK_MEM_WRITE_UNMAPPED = 1 << 5;
export const UC_HOOK_MEM_FETCH_UNMAPPED = 1 << 6;
export const UC_HOOK_MEM_READ_PROT = 1 << 7;
export const UC_HOOK_MEM_WRITE_PROT = 1 << 8;
export const UC_HOOK_MEM_FETCH_PROT = 1 << 9;
export const UC_HOOK_MEM_READ = 1 << 10;
export const UC_HOOK_MEM_WRITE = 1 << 11;
export const UC_HOOK_MEM_FETCH = 1 << 12;
export const UC_HOOK_INSN_INVALID = 1 << 14;
export const UC_HOOK_MEM_INVALID =
  UC_HOOK_MEM_READ_UNMAPPED | UC_HOOK_MEM_WRITE_UNMAPPED | UC_HOOK_MEM_FETCH_UNMAPPED |
  UC_HOOK_MEM_READ_PROT | UC_HOOK_MEM_WRITE_PROT | UC_HOOK_MEM_FETCH_PROT;

/** uc_mem_type values passed to memory hooks. */
export const UC_MEM_READ = 16;
export const UC_MEM_WRITE = 17;
export const UC_MEM_FETCH = 18;
export const UC_MEM_READ_UNMAPPED = 19;
export const UC_MEM_WRITE_UNMAPPED = 20;
export const UC_MEM_FETCH_UNMAPPED = 21;
export const UC_MEM_WRITE_PROT = 22;
export const UC_MEM_READ_PROT = 23;
export const UC_MEM_FETCH_PROT = 24;

export const UC_X86_INS_SYSCALL = 699;
export const UC_X86_INS_CPUID = 113;

export const UC_CTL_IO_WRITE = 1;
export const UC_CTL_IO_READ = 2;
export const UC_CTL_CPU_MODEL = 7;
export const UC_CTL_TB_REMOVE_CACHE = 9;
export const UC_CTL_TB_FLUSH = 10;
export const UC_CPU_X86_QEMU64 = 0;
export const UC_CPU_X86_HASWELL = 19;

/** Register ids (uc_x86_reg). */
export const X86 = {
  RAX: 35, RBX: 37, RCX: 38, RDX: 40, RSI: 43, RDI: 39, RBP: 36, RSP: 44,
  R8: 106, R9: 107, R10: 108, R11: 109, R12: 110, R13: 111, R14: 112, R15: 113,
  RIP: 41, EFLAGS: 25, FS_BASE: 250, GS_BASE: 251, CR0: 50, CR4: 54,
  XMM0: 122, MXCSR: 249, FPSW: 31, FPCW: 246, FPTAG: 247, ST0: 114,
  ES: 28, CS: 11, SS: 49, DS: 17, FS: 32, GS: 33,
} as const;

/** The 16 general registers in hardware encoding order (rax=0 … r15=15). */
export const GPR_BY_ENCODING: readonly number[] = [
  X86.RAX, X86.RCX, X86.RDX, X86.RBX, X86.RSP, X86.RBP, X86.RSI, X86.RDI,
  X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15,
];

/** The 17 registers in DWARF numbering (rax rdx rcx rbx rsi rdi rbp rsp r8–r15 rip). */
export const DWARF_REGS: readonly number[] = [
  X86.RAX, X86.RDX, X86.RCX, X86.RBX, X86.RSI, X86.RDI, X86.RBP, X86.RSP,
  X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15, X86.RIP,
];

/** uc_err names, indexed by value, for error messages. */
export const UC_ERR_NAMES: readonly string[] = [
  'OK', 'NOMEM', 'ARCH', 'HANDLE', 'MODE', 'VERSION', 'READ_UNMAPPED', 'WRITE_UNMAPPED',
  'FETCH_UNMAPPED', 'HOOK', 'INSN_INVALID', 'MAP', 'WRITE_PROT', 'READ_PROT', 'FETCH_PROT',
  'ARG', 'READ_UNALIGNED', 'WRITE_UNALIGNED', 'FETCH_UNALIGNED', 'HOOK_EXIST', 'RESOURCE',
  'EXCEPTION',
];
export const UC_ERR_INSN_INVALID = 10;
export const UC_ERR_EXCEPTION = 21;
