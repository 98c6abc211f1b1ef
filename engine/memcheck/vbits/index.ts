/** Memcheck's V-bit instrumentation of the JIT's IR: the pass, its rule table and combinators. */
export { instrumentMemcheck, MC_DIRTY, MC_DIRTY_SIGNATURES, MC_ORIGIN_DIRTY_SIGNATURES } from './instrument';
export { MC_ORIGIN_DIRTY, OriginPass, OTAG_TY } from './origins';
export type { McInstrumentOptions } from './instrument';
export type { DefinednessDetail } from './detail';
export { BINOP_RULES, CONV_RULES, UNOP_RULES } from './rules';
export type { BinRule, UnRule } from './rules';
export { Shadow } from './combinators';
