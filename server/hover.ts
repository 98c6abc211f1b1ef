/**
 * Hover on a line with findings: each error in full, as Valgrind's text output prints it, with
 * where it came from and how often it occurred.
 */
import { MarkupKind, type Hover } from 'vscode-languageserver';
import { docLinkOf } from './kinds';
import type { Placed } from './placement';
import { errorText } from '../engine/report/text-writer';
import { engineView } from './engine-records';

/** The hover for a line of a file, or null when nothing was found there. */
export function hoverAt(placed: Placed[], path: string, line: number): Hover | null {
  const here = placed.filter((p) => p.path === path && p.line === line);
  if (here.length === 0) return null;
  const blocks = here.map((p) => {
    const rec = p.finding.record;
    const times = rec.count !== undefined && rec.count > 1 ? `, ${rec.count} times` : '';
    const title = `**memcheck** [${rec.kind}](${docLinkOf(rec.kind)}) — ${p.finding.source.label}${times}`;
    return `${title}\n\n\`\`\`text\n${errorText(engineView(rec)).trimEnd()}\n\`\`\``;
  });
  return { contents: { kind: MarkupKind.Markdown, value: blocks.join('\n\n---\n\n') } };
}
