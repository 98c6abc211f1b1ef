/** Warnings are printed once per distinct text, as Valgrind does for its Xen WARNINGs. */

import { WarnSink } from './interfaces';

/** Wrap a sink so each distinct message goes through once; `seen` lists them. */
export function warnOnce(sink: WarnSink): WarnSink & { readonly seen: ReadonlySet<string> } {
  const seen = new Set<string>();
  const f = ((m: string) => {
    if (seen.has(m)) return;
    seen.add(m);
    sink(m);
  }) as WarnSink & { seen: ReadonlySet<string> };
  Object.defineProperty(f, 'seen', { value: seen });
  return f;
}
