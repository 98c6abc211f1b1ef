/**
 * Decide which findings are shown and on which line: filtered by kind (settings), hidden when
 * the suppression file matches them, and anchored at the first frame inside the workspace.
 * Errors wholly outside the workspace are hidden unless `showExternal` is set; then they go to
 * the first frame whose source exists, or, failing that, to their `<error>` in the XML file.
 */
import { pathGlob } from './glob';
import type { Finding } from './findings';
import type { Anchor, Locator } from './locate';
import type { Settings } from './settings';
import type { Suppression } from '../engine/errors/suppressions';
import { suppresses } from './suppressions';

/** A finding with the place it is shown. */
export interface Placed {
  finding: Finding;
  /** Absolute path of the file that shows it. */
  path: string;
  /** 0-based line. */
  line: number;
  /** The frame chosen; undefined when the finding is shown on its XML file. */
  anchor?: Anchor;
  /** True when no frame of the error is in the workspace. */
  external: boolean;
}

/** The outcome for all findings. */
export interface Placement {
  placed: Placed[];
  /** Findings the suppression file matches, with the entry's name. */
  suppressed: { finding: Finding; by: string }[];
}

/** Place every finding. */
export function placeFindings(findings: Finding[], settings: Settings, locator: Locator, entries: Suppression[]): Placement {
  const excluded = settings.excludeKinds.map(pathGlob);
  const out: Placement = { placed: [], suppressed: [] };
  for (const finding of findings) {
    const rec = finding.record;
    if (excluded.some((re) => re.test(rec.kind))) continue;
    const entry = entries.find((e) => suppresses(e, rec));
    if (entry) {
      out.suppressed.push({ finding, by: entry.name });
      continue;
    }
    const base = finding.source.baseDirs;
    const anchor = locator.workspaceAnchor(rec, base);
    if (anchor) {
      out.placed.push({ finding, path: anchor.path, line: anchor.line, anchor, external: false });
      continue;
    }
    if (!settings.showExternal) continue;
    const elsewhere = locator.anyAnchor(rec, base);
    if (elsewhere) out.placed.push({ finding, path: elsewhere.path, line: elsewhere.line, anchor: elsewhere, external: true });
    else if (finding.source.xmlPath !== undefined && finding.xmlLine !== undefined) {
      out.placed.push({ finding, path: finding.source.xmlPath, line: finding.xmlLine - 1, external: true });
    }
  }
  return out;
}
