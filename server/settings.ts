/**
 * The server's settings (section `unigrind`), with defaults, read leniently from whatever JSON the
 * client sends: a missing or mistyped value falls back to its default instead of breaking the
 * server.
 */

/** Effective settings. Keys mirror `contributes.configuration` in extension/package.json. */
export interface Settings {
  /** `unigrind.xml.include`: which workspace files may hold Valgrind XML. */
  xmlInclude: string;
  /** `unigrind.xml.exclude`: folders and files never scanned. */
  xmlExclude: string;
  /** `unigrind.diagnostics.showExternal`: show errors with no frame in the workspace. */
  showExternal: boolean;
  /** `unigrind.diagnostics.excludeKinds`: kinds (globs allowed, e.g. `Leak_*`) never shown. */
  excludeKinds: string[];
  /** `unigrind.suppressionFile`: where "Add suppression" writes, relative to the first folder. */
  suppressionFile: string;
  /** `unigrind.inlayHints.enabled`. */
  inlayHints: boolean;
  /** `unigrind.codeLens.enabled`. */
  codeLens: boolean;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  xmlInclude: '**/*.xml',
  xmlExclude: '**/{node_modules,.git}/**',
  showExternal: false,
  excludeKinds: [],
  suppressionFile: 'valgrind.supp',
  inlayHints: true,
  codeLens: true,
});

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Read the value at a dotted key, accepting both nested objects and flat `"a.b"` keys. */
function at(root: Record<string, unknown>, key: string): unknown {
  if (key in root) return root[key];
  const dot = key.indexOf('.');
  if (dot < 0) return undefined;
  return at(obj(root[key.slice(0, dot)]), key.slice(dot + 1));
}

function str(v: unknown, d: string): string {
  return typeof v === 'string' && v.trim() !== '' ? v : d;
}

function bool(v: unknown, d: boolean): boolean {
  return typeof v === 'boolean' ? v : d;
}

/** Settings from the `unigrind` section (or its contents) as the client sent them. */
export function readSettings(section: unknown): Settings {
  const s = obj(section);
  const kinds = at(s, 'diagnostics.excludeKinds');
  return {
    xmlInclude: str(at(s, 'xml.include'), DEFAULT_SETTINGS.xmlInclude),
    xmlExclude: str(at(s, 'xml.exclude'), DEFAULT_SETTINGS.xmlExclude),
    showExternal: bool(at(s, 'diagnostics.showExternal'), DEFAULT_SETTINGS.showExternal),
    excludeKinds: Array.isArray(kinds) ? kinds.filter((k): k is string => typeof k === 'string') : [],
    suppressionFile: str(at(s, 'suppressionFile'), DEFAULT_SETTINGS.suppressionFile),
    inlayHints: bool(at(s, 'inlayHints.enabled'), DEFAULT_SETTINGS.inlayHints),
    codeLens: bool(at(s, 'codeLens.enabled'), DEFAULT_SETTINGS.codeLens),
  };
}
