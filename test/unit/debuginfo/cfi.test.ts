/**
 * CFI rules decoded from libdw, including the correction of elfutils 0.188's x86-64 ABI rules
 * (rax declared same_value where rbx was meant).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ModuleCfi, REG_RIP, REG_RSP, RuleKind } from '../../../engine/debuginfo/cfi';
import { ModuleMap } from '../../../engine/debuginfo/modules';
import { SymbolTable } from '../../../engine/debuginfo/symbols';
import { build, have, PIE_BIAS, tempDir } from './helpers';

describe('cfi', { skip: !have('gcc') }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('decodes the entry rules of a function, with rbx callee-saved and rax clobbered', () => {
    const exe = build(tmp.dir, 'qsort_crash.c', 'cfi', ['-g', '-O2']);
    const map = new ModuleMap();
    try {
      const mod = map.report(exe, PIE_BIAS);
      const cfi = new ModuleCfi(mod.handle);
      const cmp = SymbolTable.load(mod.handle).named('cmp')[0];
      const r = cfi.rulesAt(cmp.address);
      assert.deepEqual(cfi.tables, { eh: true, debugFrame: undefined }, '.debug_frame is not needed');
      assert.ok(r, 'rules at the entry of cmp');
      // At a function's first instruction: CFA = rsp + 8, return address at CFA - 8, rsp = CFA.
      assert.equal(r.cfaReg, REG_RSP);
      assert.equal(r.cfaOffset, 8);
      assert.equal(r.ra, REG_RIP);
      assert.deepEqual([r.regs[REG_RIP].kind, r.regs[REG_RIP].offset], [RuleKind.AtCfa, -8]);
      assert.deepEqual([r.regs[REG_RSP].kind, r.regs[REG_RSP].offset], [RuleKind.ValCfa, 0]);
      assert.equal(r.regs[3].kind, RuleKind.Same, 'rbx is callee-saved (elfutils 0.188 says undefined)');
      assert.equal(r.regs[0].kind, RuleKind.Undefined, 'rax is call-clobbered (elfutils 0.188 says same_value)');
      for (const reg of [6, 12, 13, 14, 15]) assert.equal(r.regs[reg].kind, RuleKind.Same);
      assert.ok(r.start <= cmp.address && cmp.address < r.end);
      assert.equal(r.signal, false);
      assert.equal(cfi.rulesAt(PIE_BIAS + 0x10000000), undefined, 'no FDE far outside the module');
      assert.notEqual(cfi.tables.debugFrame, undefined, 'then .debug_frame was looked for (gcc emits none here)');
    } finally {
      map.close();
    }
  });
});
