/**
 * Where on disk a Valgrind frame points, and whether that place is inside the workspace.
 *
 * A frame's source is `<dir>/<file>`. `dir` is what the compiler recorded: absolute for the
 * user's code, but often relative for system libraries built elsewhere (glibc's
 * `./io/../sysdeps/unix/sysv/linux`); a relative one is tried against the XML's folder and the
 * workspace folders and accepted only where the file exists. Paths are compared after resolving
 * symlinks, since the compile directory and the editor's workspace folder may name the same place
 * differently (`/tmp` vs `/private/tmp`, a symlinked checkout).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ErrorRecord, ValgrindFrame } from './protocol';

/** A frame chosen to carry a finding. */
export interface Anchor {
  /** Absolute path of the source file. */
  path: string;
  /** 0-based line. */
  line: number;
  frame: ValgrindFrame;
  /** Which stack: -1 for the primary one, else the index into `aux`. */
  stack: number;
  frameIndex: number;
}

/** Resolves frames to files for one set of workspace folders; caches file-system answers. */
export class Locator {
  private readonly folders: string[];
  private readonly exists = new Map<string, boolean>();
  private readonly real = new Map<string, string>();

  /** @param folders absolute paths of the workspace folders */
  constructor(folders: string[]) {
    this.folders = folders.map((f) => this.realpath(path.resolve(f)));
  }

  /** The absolute source path of a frame, or undefined when it cannot be placed on disk. */
  framePath(frame: ValgrindFrame, baseDirs: string[] = []): string | undefined {
    if (!frame.file) return undefined;
    if (path.isAbsolute(frame.file)) return path.normalize(frame.file);
    if (frame.dir && path.isAbsolute(frame.dir)) return path.join(frame.dir, frame.file);
    const rel = frame.dir ? path.join(frame.dir, frame.file) : frame.file;
    for (const base of [...baseDirs, ...this.folders]) {
      const candidate = path.resolve(base, rel);
      if (this.fileExists(candidate)) return candidate;
    }
    return undefined;
  }

  /** True when the path lies in one of the workspace folders. */
  inWorkspace(p: string): boolean {
    const r = this.realpath(p);
    return this.folders.some((f) => {
      const rel = path.relative(f, r);
      return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    });
  }

  /** True when the path names an existing file. */
  fileExists(p: string): boolean {
    let hit = this.exists.get(p);
    if (hit === undefined) {
      try {
        hit = fs.statSync(p).isFile();
      } catch {
        hit = false;
      }
      this.exists.set(p, hit);
    }
    return hit;
  }

  /**
   * The innermost frame of the primary stack that lies in the workspace, else of an auxiliary
   * stack (an error inside a library whose allocation or origin is in user code is not "wholly
   * outside" the workspace). Undefined when no frame is.
   */
  workspaceAnchor(rec: ErrorRecord, baseDirs: string[] = []): Anchor | undefined {
    return this.firstFrame(rec, baseDirs, (p) => this.inWorkspace(p));
  }

  /** The innermost frame, in any stack, whose source file exists anywhere on disk. */
  anyAnchor(rec: ErrorRecord, baseDirs: string[] = []): Anchor | undefined {
    return this.firstFrame(rec, baseDirs, (p) => this.fileExists(p));
  }

  private firstFrame(rec: ErrorRecord, baseDirs: string[], accept: (p: string) => boolean): Anchor | undefined {
    const stacks: ValgrindFrame[][] = [rec.stack, ...rec.aux.map((a) => a.stack ?? [])];
    for (let s = 0; s < stacks.length; s++) {
      const stack = stacks[s] as ValgrindFrame[];
      for (let i = 0; i < stack.length; i++) {
        const frame = stack[i] as ValgrindFrame;
        if (frame.line === undefined) continue;
        const p = this.framePath(frame, baseDirs);
        if (p !== undefined && accept(p)) return { path: p, line: Math.max(0, frame.line - 1), frame, stack: s - 1, frameIndex: i };
      }
    }
    return undefined;
  }

  private realpath(p: string): string {
    let r = this.real.get(p);
    if (r === undefined) {
      try {
        r = fs.realpathSync.native(p);
      } catch {
        // A file that no longer exists: resolve its directory, which usually still does.
        const dir = path.dirname(p);
        r = dir === p ? p : path.join(this.realpath(dir), path.basename(p));
      }
      this.real.set(p, r);
    }
    return r;
  }
}
