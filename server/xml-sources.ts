/**
 * Valgrind XML files as sources of findings: every workspace file matching `unigrind.xml.include`
 * (and not `unigrind.xml.exclude`) whose root element is `<valgrindoutput>`, plus files the user
 * loaded explicitly. Files are re-read when they change (debounced: Valgrind writes its XML
 * piecemeal while the program runs) and forgotten when deleted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FindingStore } from './findings';
import { pathGlob } from './glob';
import type { Settings } from './settings';
import { isValgrindXml, parseValgrindXml, type ValgrindRun } from './valgrind-xml';
import { relativePath, walkFiles } from './workspace-files';

/** Wait this long after the last change before re-reading a file. */
const DEBOUNCE_MS = 120;
/** Bytes read to recognise the root element. */
const SNIFF_BYTES = 4096;

/** Keeps the store's XML sources in step with the files. */
export class XmlSources {
  private folders: string[] = [];
  private include: RegExp = /^$/;
  private exclude: RegExp = /^$/;
  /** Loaded by request: kept whatever the globs say, watched one by one. */
  private readonly explicit = new Map<string, fs.FSWatcher | undefined>();
  /** Cleared by the user: path → mtime then; the file returns when its mtime changes. */
  private readonly dismissed = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** @param log reports unreadable files */
  constructor(private readonly store: FindingStore, private readonly log: (message: string) => void) {}

  /** Use these folders and globs from now on. */
  configure(folders: string[], settings: Settings): void {
    this.folders = folders;
    this.include = pathGlob(settings.xmlInclude);
    this.exclude = pathGlob(settings.xmlExclude);
  }

  /** The exclude glob, for the folder watcher. */
  get excluded(): RegExp {
    return this.exclude;
  }

  /** True when a workspace file is one the settings select. */
  selects(file: string): boolean {
    return this.folders.some((folder) => {
      const rel = relativePath(folder, file);
      return !rel.startsWith('..') && !path.isAbsolute(rel) && this.include.test(rel) && !this.exclude.test(rel);
    });
  }

  /** Find and read every selected XML file; drop loaded files no longer selected. */
  async scan(): Promise<void> {
    const found = new Set<string>();
    for (const folder of this.folders) {
      for (const file of await walkFiles(folder, this.exclude)) if (this.selects(file)) found.add(file);
    }
    for (const old of this.store.xmlPaths()) if (!found.has(old) && !this.explicit.has(old)) this.store.removeXml(old);
    for (const file of found) await this.reload(file);
  }

  /** A file was created, changed or deleted: re-read it soon if it is one of ours. */
  changed(file: string): void {
    if (!this.explicit.has(file) && !this.selects(file)) return;
    clearTimeout(this.timers.get(file));
    this.timers.set(
      file,
      setTimeout(() => {
        this.timers.delete(file);
        void this.reload(file);
      }, DEBOUNCE_MS),
    );
  }

  /** Read a file at the user's request, wherever it is, and keep it up to date. */
  async loadExplicit(file: string): Promise<ValgrindRun> {
    this.dismissed.delete(file);
    const run = parseValgrindXml(await fs.promises.readFile(file, 'utf8'));
    this.store.setXml(file, run);
    if (!this.explicit.has(file)) {
      let watcher: fs.FSWatcher | undefined;
      // Workspace files are already watched with the folders; others need their own watch.
      if (!this.selects(file)) {
        try {
          watcher = fs.watch(file, () => this.changed(file));
        } catch {
          watcher = undefined;
        }
      }
      this.explicit.set(file, watcher);
    }
    return run;
  }

  /** Forget every file's findings until the file changes again. */
  dismissAll(): void {
    for (const file of this.store.xmlPaths()) {
      try {
        this.dismissed.set(file, fs.statSync(file).mtimeMs);
      } catch {
        // already gone
      }
    }
  }

  /** Stop timers and watches. */
  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const w of this.explicit.values()) w?.close();
    this.explicit.clear();
  }

  private async reload(file: string): Promise<void> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch {
      this.store.removeXml(file);
      return;
    }
    const dismissedAt = this.dismissed.get(file);
    if (dismissedAt !== undefined) {
      if (dismissedAt === stat.mtimeMs) return;
      this.dismissed.delete(file);
    }
    if (!(await startsAsValgrindXml(file))) {
      this.store.removeXml(file); // it may have been one before being overwritten
      return;
    }
    try {
      this.store.setXml(file, parseValgrindXml(await fs.promises.readFile(file, 'utf8')));
    } catch (e) {
      this.log(`unigrind: cannot read ${file}: ${(e as Error).message}`);
    }
  }
}

async function startsAsValgrindXml(file: string): Promise<boolean> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    return isValgrindXml(buf.subarray(0, bytesRead).toString('utf8'));
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}
