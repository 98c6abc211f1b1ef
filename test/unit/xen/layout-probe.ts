/**
 * Checks the TypeScript layout tables against real Xen headers: generates a C program printing
 * `sizeof` and `offsetof` for every named struct and every leaf member path the tables declare
 * for a release, compiles it with gcc against a header tree, and parses the answers.
 *
 * Used live by layouts.test.ts against Debian's libxen-dev (`/usr/include/xen`, Xen 4.17), and
 * offline to produce `test/fixtures/xen/layouts/<release>.json` from older releases' public
 * headers (no package ships those):
 *
 *   git -C xen archive RELEASE-4.10.1 xen/include/public | tar -x -C /tmp/x
 *   mkdir -p /tmp/h/4.10.1 && mv /tmp/x/xen/include/public /tmp/h/4.10.1/xen
 *   node dist/test/unit/xen/layout-probe.js --probe-headers /tmp/h/4.10.1 4.10.1 \
 *     > test/fixtures/xen/layouts/4.10.1.json
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layoutOf, leafPaths, present, StructType } from '../../../engine/xen/layouts/ctypes';
import * as L from '../../../engine/xen/layouts';
import { R, Release } from '../../../engine/xen/layouts/releases';

/** Layout modules whose structs exist in every release's public headers (sysctl/domctl family). */
const VERSIONED = [L.sysctl, L.domctl, L.domctlPayloads, L.common];
/** Modules probed only against the installed 4.17 headers (ABI-stable or Linux-side). */
const CURRENT_ONLY = [L.memory, L.version, L.evtchn, L.grant, L.sched, L.hvm, L.physdev, L.mmuext, L.vcpu, L.xsm, L.dmop, L.multicall, L.ioctl];

function isStruct(x: unknown): x is StructType {
  return typeof x === 'object' && x !== null && ((x as StructType).kind === 'struct' || (x as StructType).kind === 'union') && Array.isArray((x as StructType).fields);
}

/** Named C types of the given modules present in `release` (anonymous/pseudo types skipped). */
export function namedTypes(release: Release, current: boolean): StructType[] {
  // tmem.h existed until 4.12: probed from the old releases' headers only.
  const mods = current ? [...VERSIONED, ...CURRENT_ONLY] : [...VERSIONED, L.tmem];
  const seen = new Set<string>();
  const out: StructType[] = [];
  for (const m of mods) {
    for (const v of Object.values(m)) {
      if (!isStruct(v) || !/^(struct|union) \w+$/.test(v.cName) || !present(v, release)) continue;
      if (v.cName.startsWith('union xen_') && v.cName.endsWith('_u')) continue; // our names for anonymous unions
      if (seen.has(v.cName)) continue;
      seen.add(v.cName);
      out.push(v);
    }
  }
  return out;
}

/** One measured fact: `sizeof T` or `offsetof(T, path)`. */
export type Probe = Record<string, number>;

/** What the tables say, in the same keys the C program prints. */
export function expected(release: Release, current: boolean): Probe {
  const out: Probe = {};
  for (const t of namedTypes(release, current)) {
    const l = layoutOf(t, release);
    out[`sizeof ${t.cName}`] = l.size;
    for (const p of leafPaths(l)) {
      // Walk the path to its offset.
      let off = 0;
      let cur = l;
      for (const part of p.split('.')) {
        const fld = cur.byName.get(part)!;
        off += fld.offset;
        if (fld.nested) cur = fld.nested;
      }
      out[`offsetof ${t.cName} ${p}`] = off;
    }
  }
  return out;
}

const INCLUDES_VERSIONED = ['xen/xen.h', 'xen/domctl.h', 'xen/sysctl.h'];
const INCLUDES_CURRENT = [
  'xen/memory.h', 'xen/version.h', 'xen/event_channel.h', 'xen/grant_table.h', 'xen/sched.h', 'xen/hvm/hvm_op.h',
  'xen/hvm/dm_op.h', 'xen/physdev.h', 'xen/vcpu.h', 'xen/xsm/flask_op.h', 'xen/sys/privcmd.h', 'xen/sys/evtchn.h',
  'xen/sys/gntdev.h', 'xen/sys/gntalloc.h',
];


/** Generate the probe C source. */
export function probeSource(release: Release, current: boolean): string {
  const lines = [
    '#include <stdio.h>', '#include <stddef.h>', '#include <stdint.h>', '#include <sys/types.h>',
    '#define __XEN_TOOLS__ 1', '#define __user',
  ];
  const oldIncludes = release <= R(4, 12) ? [...INCLUDES_VERSIONED, 'xen/tmem.h'] : INCLUDES_VERSIONED;
  for (const i of current ? [...INCLUDES_VERSIONED, ...INCLUDES_CURRENT] : oldIncludes) lines.push(`#include <${i}>`);
  lines.push('int main(void) {');
  for (const t of namedTypes(release, current)) {
    const c = t.cName;
    lines.push(`  printf("sizeof ${t.cName}\\t%zu\\n", sizeof(${c}));`);
    for (const p of leafPaths(layoutOf(t, release))) {
      lines.push(`  printf("offsetof ${t.cName} ${p}\\t%zu\\n", offsetof(${c}, ${p}));`);
    }
  }
  lines.push('  return 0;', '}');
  return lines.join('\n') + '\n';
}

/** Compile and run the probe against a header root (the directory containing `xen/`). */
export function runProbe(headerRoot: string, release: Release, current: boolean): Probe {
  const dir = mkdtempSync(join(tmpdir(), 'xen-probe-'));
  try {
    const src = join(dir, 'probe.c');
    writeFileSync(src, probeSource(release, current));
    const exe = join(dir, 'probe');
    execFileSync('gcc', ['-w', '-I', headerRoot, '-o', exe, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    const out = execFileSync(exe, { encoding: 'utf8' });
    const res: Probe = {};
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [k, v] = line.split('\t');
      res[k] = Number(v);
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Differences between measured and declared facts ("key: header N, tables M"). */
export function diff(measured: Probe, declared: Probe): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(declared)) {
    if (measured[k] !== v) out.push(`${k}: header ${measured[k]}, tables ${v}`);
  }
  return out;
}

// CLI for regenerating fixtures; guarded by a flag because node's test runner executes every
// .js file under a test/ directory.
if (require.main === module && process.argv[2] === '--probe-headers') {
  const [root, rel] = process.argv.slice(3);
  const [a, b, c] = rel.split('.').map(Number);
  const release = (a << 16) | (b << 8) | (c ?? 0);
  const res = runProbe(root, release, false);
  process.stdout.write(JSON.stringify({ release: rel, probe: res }, null, 1) + '\n');
}
