/**
 * Xen frames in guest memory, and the windows the guest mmap()s from Xen devices.
 *
 * Guest pages must be native host memory mapped into Unicorn, but the hypervisor's frames are
 * whatever it holds: in the simulator plain `Uint8Array`s in the JS heap (not page-aligned, not
 * shareable with Unicorn), in host mode views of a real foreign mapping. So a frame cannot be
 * aliased directly. Instead:
 *
 *  - Each frame the guest has mapped gets one page ("slot") of a memfd. A guest mapping of the
 *    frame is a MAP_SHARED mapping of that memfd page, so every guest mapping of one frame (two
 *    privcmd windows, gntdev maps) sees the same bytes through the host kernel, with no copying
 *    among them. The engine keeps its own mapping of each slot ("master").
 *  - The slot and the frame are made equal whenever the hypervisor can look: before every call
 *    into Xen (ioctl on a Xen fd, mmap of one) the guest's bytes are copied into the frame, and
 *    after it the frame's bytes are copied back. The simulated hypervisor runs only inside such
 *    calls, so it always sees what the guest wrote and the guest sees what it wrote; the cost is
 *    2 × 4 KiB per mapped frame per Xen call (xl list/info/... map none). In host mode a real
 *    other domain writing a shared page between calls is seen at the next call, not at once.
 *  - When the last guest mapping of a frame goes away (munmap, MAP_FIXED over it, exit) the
 *    slot is copied into the frame a last time and recycled.
 *
 * The windows: libxenforeignmemory mmap()s a privcmd window and fills it with MMAPBATCH; the
 * device must learn when the guest unmaps it (`XenFile.munmap`). Unmaps are observed through the
 * address-space listener, so munmap, MAP_FIXED replacements and mremap all count.
 */
import { HostChunk, hostMmap, hostMunmap, hostSyscall } from '../host/libc';
import { PAGE } from '../memory/guest-memory';
import type { GuestProcess } from '../process/guest-process';
import { memfdWith } from '../kernel/handlers/proc-self';
import type { ForeignFrame, ForeignMapper, XenFile } from '../xen';

const SYS_FTRUNCATE = 77;

/** One frame the guest has mapped at least once: its memfd page and the engine's view of it. */
interface Slot {
  readonly frame: ForeignFrame;
  readonly index: number;
  readonly master: HostChunk;
  refs: number;
}

/** A range the guest mapped from a Xen device file. */
interface Window {
  readonly start: number;
  readonly len: number;
  readonly file: XenFile;
}

/** Frames and device windows of one guest process (see the file comment for the design). */
export class XenMappings implements ForeignMapper {
  private memfd = -1;
  private slotCount = 0;
  private readonly freeSlots: number[] = [];
  private readonly slots = new Map<ForeignFrame, Slot>();
  /** Guest page address → the frame mapped there. */
  private readonly pages = new Map<number, Slot>();
  private readonly windows: Window[] = [];
  /** Set while mapFrame swaps one page of a window, which must not look like the window going away. */
  private swapping = false;

  constructor(private readonly proc: GuestProcess) {
    proc.mem.listen({ unmapped: (start, end) => this.unmapped(start, end) });
  }

  /** Remembers a device window so the file hears of its munmap. */
  trackWindow(start: number, len: number, file: XenFile): void {
    this.windows.push({ start, len, file });
  }

  /**
   * ForeignMapper: privcmd MMAP/MMAPBATCH/MMAP_RESOURCE put `frame` at guest page `addr`
   * (inside a window), replacing the zero page there. The frame's contents are defined.
   */
  mapFrame(addr: number, frame: ForeignFrame): void {
    const mem = this.proc.mem;
    const r = mem.find(addr);
    const perms = r?.perms ?? 3;
    const name = r?.name ?? '';
    const fileOffset = r ? r.fileOffset + (addr - r.start) : 0;
    const slot = this.acquire(frame);
    const chunk = this.guestPage(slot);
    this.swapping = true;
    try {
      mem.unmap(addr, PAGE);
    } finally {
      this.swapping = false;
    }
    mem.map(addr, PAGE, perms, name, { chunk, offset: 0 }, fileOffset, true);
    this.pages.set(addr, slot);
    this.proc.observer.postWrite(addr, PAGE);
  }

  /** Host pages for an mmap of `frames` at guest `start` (gntdev/gntalloc), one per page, in order. */
  framePages(start: number, frames: readonly ForeignFrame[]): HostChunk[] {
    return frames.map((f, i) => {
      const slot = this.acquire(f);
      this.pages.set(start + i * PAGE, slot);
      return this.guestPage(slot);
    });
  }

  /** Before the hypervisor runs: it must see what the guest wrote into mapped frames. */
  toHypervisor(): void {
    for (const s of this.slots.values()) s.frame.set(s.master.bytes);
  }

  /** After the hypervisor ran: the guest must see what it wrote. */
  fromHypervisor(): void {
    for (const s of this.slots.values()) s.master.bytes.set(s.frame);
  }

  /** Frames currently mapped into the guest (for tests and statistics). */
  get mappedFrames(): number {
    return this.slots.size;
  }

  private acquire(frame: ForeignFrame): Slot {
    if (frame.length !== PAGE) throw new Error(`xen: a frame must be ${PAGE} bytes, got ${frame.length}`);
    let s = this.slots.get(frame);
    if (!s) {
      const index = this.freeSlots.pop() ?? this.grow();
      const master = hostMmap(PAGE, this.memfd, index * PAGE, true);
      if (typeof master === 'number') throw new Error(`xen: cannot map a frame slot (errno ${-master})`);
      master.bytes.set(frame);
      s = { frame, index, master, refs: 0 };
      this.slots.set(frame, s);
    }
    s.refs++;
    return s;
  }

  // One more page in the memfd (created on first use: most runs never map a frame).
  private grow(): number {
    if (this.memfd < 0) {
      const fd = memfdWith('unigrind-xen-frames', new Uint8Array(0));
      if (fd < 0) throw new Error(`xen: memfd_create failed (errno ${-fd})`);
      this.memfd = fd;
    }
    const index = this.slotCount++;
    const r = hostSyscall(SYS_FTRUNCATE, this.memfd, this.slotCount * PAGE);
    if (r < 0) throw new Error(`xen: cannot grow the frame memfd (errno ${-r})`);
    return index;
  }

  private guestPage(s: Slot): HostChunk {
    const c = hostMmap(PAGE, this.memfd, s.index * PAGE, true);
    if (typeof c === 'number') throw new Error(`xen: cannot map a frame into the guest (errno ${-c})`);
    return c;
  }

  private release(s: Slot): void {
    if (--s.refs > 0) return;
    s.frame.set(s.master.bytes);
    hostMunmap(s.master.addr, PAGE);
    this.slots.delete(s.frame);
    this.freeSlots.push(s.index);
  }

  private unmapped(start: number, end: number): void {
    if (this.pages.size) {
      for (const [addr, slot] of this.pages) {
        if (addr < start || addr >= end) continue;
        this.pages.delete(addr);
        this.release(slot);
      }
    }
    if (this.swapping || !this.windows.length) return;
    for (let i = this.windows.length - 1; i >= 0; i--) {
      const w = this.windows[i];
      if (w.start >= end || w.start + w.len <= start || !this.proc.mem.isFree(w.start, w.len)) continue;
      this.windows.splice(i, 1);
      w.file.munmap?.(w.start, w.len);
    }
  }
}
