/**
 * What the declarations cover — hypercalls × sub-ops × interface versions — computed from the
 * declarations themselves (for `--xen-coverage`), next to Valgrind 3.19's figures (reference
 * §10.2).
 */

import { present } from './layouts/ctypes';
import { Release } from './layouts/releases';
import { DOMCTL_VERSIONS, releaseForDomctl, releaseForSysctl, releaseName, SYSCTL_VERSIONS, LATEST } from './layouts/releases';
import { Case, HypercallDecl, Rule } from './hypercalls/decl';
import { DECLARATIONS, HYPERCALL_NAMES } from './hypercalls/registry';
import { IOCTLS } from './ioctls/table';

export interface CoverageRow {
  readonly nr: number;
  readonly hypercall: string;
  readonly value: number;
  readonly subop: string;
  /** Interface versions covered (sysctl/domctl), or releases for the rest. */
  readonly versions: string;
  /** Nested selector cases decoded inside this sub-op (cpupool ops, shadow ops, …). */
  readonly nested: number;
  readonly inValgrind: boolean;
}

export interface Coverage {
  readonly rows: readonly CoverageRow[];
  readonly hypercalls: number;
  readonly subops: number;
  readonly nestedCases: number;
  readonly ioctls: number;
  readonly versions: { readonly sysctl: string; readonly domctl: string };
  readonly valgrind: {
    readonly hypercalls: number;
    readonly subops: number;
    readonly versions: { readonly sysctl: string; readonly domctl: string };
    readonly ioctls: number;
    /** Valgrind sub-ops with no declaration here. */
    readonly missing: readonly string[];
  };
}

/** Valgrind 3.19's wrapped sub-ops by hypercall number (reference §10.2; 119 distinct + the shared evtchn op). */
export const VALGRIND_SUBOPS: Readonly<Record<number, readonly number[]>> = {
  12: [0, 1, 2, 5, 6, 7, 9, 10, 13, 14, 15, 18, 19, 21, 24, 25],
  16: [6],
  17: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  20: [2],
  26: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20],
  27: [5],
  29: [4],
  32: [6],
  33: [13, 14],
  34: [0, 1, 2, 3, 4, 6, 8, 12, 13, 14, 25],
  35: [1, 3, 4, 6, 7, 16, 17, 18],
  36: [1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 24, 25, 27, 33, 34, 35, 36, 37, 41, 42, 43, 45, 47, 49,
    54, 55, 56, 59, 60, 61, 62, 63, 64, 68, 69, 70, 71, 72, 73, 77],
  38: [0],
};

function countCases(rules: readonly Rule[]): number {
  let n = 0;
  for (const r of rules) {
    if ('select' in r) {
      for (const c of Object.values(r.cases) as Case[]) n += 1 + countCases(c.rules);
    } else if ('when' in r) {
      n += countCases(r.then) + countCases(r.else ?? []);
    } else if ('whenArg' in r) {
      n += countCases(r.then);
    } else if ('buf' in r && r.buf.each) {
      n += countCases(r.buf.each);
    }
  }
  return n;
}

/** Ranges like "0x07–0x0d, 0x0f–0x15" from a list of covered versions. */
function ranges(vs: number[]): string {
  const out: string[] = [];
  const hex = (v: number) => `0x${v.toString(16).padStart(2, '0')}`;
  for (let i = 0; i < vs.length; ) {
    let j = i;
    while (j + 1 < vs.length && vs[j + 1] === vs[j] + 1) j++;
    out.push(i === j ? hex(vs[i]) : `${hex(vs[i])}–${hex(vs[j])}`);
    i = j + 1;
  }
  return out.join(', ');
}

function versionsOf(decl: HypercallDecl, gate: { since?: Release; until?: Release }): string {
  if (decl.nr === 35 || decl.nr === 36) {
    const v = decl.nr === 35 ? SYSCTL_VERSIONS : DOMCTL_VERSIONS;
    const rel = decl.nr === 35 ? releaseForSysctl : releaseForDomctl;
    const ok: number[] = [];
    for (let x = v.min; x <= v.max; x++) { const r = rel(x); if (r !== undefined && present(gate, r)) ok.push(x); }
    return ranges(ok);
  }
  if (gate.since === undefined && gate.until === undefined) return 'all';
  return `${gate.since !== undefined ? releaseName(gate.since) : '…'}–${gate.until !== undefined ? releaseName(gate.until) : releaseName(LATEST)}`;
}

/** Compute the coverage table from the declarations. */
export function coverage(): Coverage {
  const rows: CoverageRow[] = [];
  for (const d of [...DECLARATIONS.values()].sort((a, b) => a.nr - b.nr)) {
    const vg = new Set(VALGRIND_SUBOPS[d.nr] ?? []);
    if (d.subops.length) {
      for (const s of d.subops) {
        rows.push({ nr: d.nr, hypercall: d.name, value: s.value, subop: s.name, versions: versionsOf(d, s), nested: countCases(s.rules), inValgrind: vg.has(s.value) });
      }
    } else {
      // Plain hypercalls: their first-level selector cases are the sub-ops (mmuext cmds, dm ops).
      const sel = findSelect(d.rules ?? []);
      if (sel) {
        for (const [v, c] of Object.entries(sel.cases) as Array<[string, Case]>) {
          rows.push({ nr: d.nr, hypercall: d.name, value: Number(v), subop: c.name, versions: versionsOf(d, c), nested: countCases(c.rules), inValgrind: vg.has(Number(v)) });
        }
      } else {
        rows.push({ nr: d.nr, hypercall: d.name, value: -1, subop: '(whole call)', versions: 'all', nested: 0, inValgrind: false });
      }
    }
  }
  // Distinct sub-ops: one per (hypercall, value), however many layouts a value had.
  const distinct = new Set(rows.filter((r) => r.value >= 0).map((r) => `${r.nr}:${r.value}`));
  const missing: string[] = [];
  for (const [nr, vals] of Object.entries(VALGRIND_SUBOPS)) {
    for (const v of vals) if (!distinct.has(`${nr}:${v}`)) missing.push(`${HYPERCALL_NAMES[Number(nr)] ?? nr} ${v}`);
  }
  const sysOk: number[] = [];
  const domOk: number[] = [];
  for (let v = SYSCTL_VERSIONS.min; v <= SYSCTL_VERSIONS.max; v++) if (releaseForSysctl(v) !== undefined) sysOk.push(v);
  for (let v = DOMCTL_VERSIONS.min; v <= DOMCTL_VERSIONS.max; v++) if (releaseForDomctl(v) !== undefined) domOk.push(v);
  return {
    rows,
    hypercalls: DECLARATIONS.size,
    subops: distinct.size,
    nestedCases: rows.reduce((a, r) => a + r.nested, 0),
    ioctls: IOCTLS.length,
    versions: { sysctl: ranges(sysOk), domctl: ranges(domOk) },
    valgrind: {
      hypercalls: 13,
      subops: 119,
      versions: { sysctl: '0x08–0x12', domctl: '0x07–0x0d, 0x0f–0x12' },
      ioctls: 10,
      missing,
    },
  };
}

function findSelect(rules: readonly Rule[]): { cases: Readonly<Record<number, Case>> } | undefined {
  for (const r of rules) {
    if ('select' in r) return r;
    if ('buf' in r && r.buf.each) { const s = findSelect(r.buf.each); if (s) return s; }
    if ('whenArg' in r) { const s = findSelect(r.then); if (s) return s; }
  }
  return undefined;
}

/** The `--xen-coverage` report. */
export function formatCoverage(c: Coverage = coverage()): string {
  const lines: string[] = [];
  lines.push(`Xen hypercall coverage: ${c.hypercalls} hypercalls, ${c.subops} sub-ops (+${c.nestedCases} nested cases), ${c.ioctls} device ioctls`);
  lines.push(`  interface versions: sysctl ${c.versions.sysctl}; domctl ${c.versions.domctl}`);
  lines.push(`Valgrind 3.19: ${c.valgrind.hypercalls} hypercalls, ${c.valgrind.subops} sub-ops, ${c.valgrind.ioctls} ioctls; sysctl ${c.valgrind.versions.sysctl}; domctl ${c.valgrind.versions.domctl}`);
  if (c.valgrind.missing.length) lines.push(`  Valgrind sub-ops not declared here: ${c.valgrind.missing.join(', ')}`);
  lines.push('');
  lines.push('  nr hypercall                 value sub-op                            versions                 nested valgrind');
  for (const r of c.rows) {
    lines.push(`  ${String(r.nr).padStart(2)} ${r.hypercall.padEnd(25)} ${String(r.value).padStart(5)} ${r.subop.padEnd(33)} ${r.versions.padEnd(24)} ${String(r.nested).padStart(6)} ${r.inValgrind ? 'yes' : ''}`);
  }
  return lines.join('\n') + '\n';
}
