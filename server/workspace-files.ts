/**
 * Walking and watching workspace folders, honouring an exclude glob so that `node_modules` and
 * `.git` are neither read nor watched. The watcher is the fallback for clients that cannot send
 * `workspace/didChangeWatchedFiles` (Neovim 0.7, for one): one non-recursive `fs.watch` per
 * directory, so that excluded trees cost no inotify watches (Node's recursive mode would watch
 * them all).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Stop walking after this many directory entries: a guard against giant trees. */
const MAX_ENTRIES = 200_000;
/** Stop adding watches after this many directories (inotify's per-user limit is often 8192). */
const MAX_WATCHED_DIRS = 4_000;

/** Path of `p` relative to `folder` with `/` separators. */
export function relativePath(folder: string, p: string): string {
  return path.relative(folder, p).split(path.sep).join('/');
}

/**
 * Every file under `dir` whose path relative to `root` (default: `dir`) is not excluded, depth
 * first.
 */
export async function walkFiles(dir: string, excluded: RegExp, root: string = dir): Promise<string[]> {
  const out: string[] = [];
  let seen = 0;
  const visit = async (at: string): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(at, { withFileTypes: true });
    } catch {
      return; // unreadable or vanished
    }
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) return;
      const full = path.join(at, e.name);
      const rel = relativePath(root, full);
      if (e.isDirectory()) {
        if (!excluded.test(`${rel}/`)) await visit(full);
      } else if (e.isFile() && !excluded.test(rel)) out.push(full);
    }
  };
  await visit(dir);
  return out;
}

/** Watches every non-excluded directory of some folders; reports changed file paths. */
export class FolderWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();

  /** @param onChange called with the absolute path of a file that was created, changed or removed */
  constructor(private readonly onChange: (file: string) => void) {}

  /** Watch `folder` and its subdirectories except the excluded ones. */
  watch(folder: string, excluded: RegExp): void {
    this.addTree(folder, folder, excluded);
  }

  /** Stop watching everything. */
  dispose(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private addTree(root: string, dir: string, excluded: RegExp): void {
    if (this.watchers.has(dir) || this.watchers.size >= MAX_WATCHED_DIRS) return;
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, (_event, name) => {
        if (name === null) return;
        const full = path.join(dir, name.toString());
        // A new directory needs watches of its own, and may already hold files.
        let isDir = false;
        try {
          isDir = fs.statSync(full).isDirectory();
        } catch {
          this.dropTree(full);
        }
        if (isDir) {
          if (!excluded.test(`${relativePath(root, full)}/`)) {
            this.addTree(root, full, excluded);
            void walkFiles(full, excluded, root).then((files) => files.forEach((f) => this.onChange(f)));
          }
        } else if (!excluded.test(relativePath(root, full))) this.onChange(full);
      });
    } catch {
      return;
    }
    w.on('error', () => this.dropTree(dir));
    this.watchers.set(dir, w);
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      // vanished between the watch and the listing
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const full = path.join(dir, e.name);
      if (!excluded.test(`${relativePath(root, full)}/`)) this.addTree(root, full, excluded);
    }
  }

  private dropTree(dir: string): void {
    for (const [d, w] of this.watchers) {
      if (d === dir || d.startsWith(dir + path.sep)) {
        w.close();
        this.watchers.delete(d);
      }
    }
  }
}
