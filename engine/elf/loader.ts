/** Maps an ELF image's PT_LOAD segments into the guest address space, as the kernel's binfmt_elf does. */
import { GuestMemory, PAGE, pageCeil, pageFloor } from '../memory/guest-memory';
import { hostMmap } from '../host/libc';
import { ElfImage, PT_LOAD, PT_PHDR } from './elf-file';

/** Where an image landed. */
export interface LoadedImage {
  image: ElfImage;
  /** Address where vaddr 0 lands (0 for ET_EXEC). */
  bias: number;
  /** Guest address of the program header table (AT_PHDR). */
  phdr: number;
  entry: number;
  /** First page after the highest segment (brk starts here for the main program). */
  end: number;
  lo: number;
}

/** Load address of a PIE main program: Valgrind's, so that addresses in reports match Valgrind's own. */
export const PIE_BASE = 0x108000;

/** Maps image at bias (chosen by the caller, or free space found for an interpreter). */
export function loadImage(mem: GuestMemory, image: ElfImage, bias: number | 'anywhere'): LoadedImage {
  const loads = image.programs.filter((p) => p.type === PT_LOAD);
  const minV = pageFloor(Math.min(...loads.map((p) => p.vaddr)));
  const maxV = pageCeil(Math.max(...loads.map((p) => p.vaddr + p.memsz)));
  const span = maxV - minV;
  let b: number;
  if (bias === 'anywhere') {
    const at = mem.findFree(span);
    if (at === undefined) throw new Error(`no room in the guest address space for ${image.path}`);
    b = at - minV;
  } else {
    b = bias;
  }
  const chunk = hostMmap(span);
  if (typeof chunk === 'number') throw new Error(`host mmap of ${span} bytes failed for ${image.path}`);
  // Page permissions: the union of every segment touching the page (segments may share a page).
  const pagePerms = new Map<number, number>();
  for (const p of loads) {
    chunk.bytes.set(image.data.subarray(p.offset, p.offset + p.filesz), p.vaddr - minV);
    const perms = ((p.flags & 4) ? 1 : 0) | ((p.flags & 2) ? 2 : 0) | ((p.flags & 1) ? 4 : 0);
    for (let a = pageFloor(p.vaddr); a < p.vaddr + p.memsz; a += PAGE) pagePerms.set(a, (pagePerms.get(a) ?? 0) | perms);
  }
  // One region per run of pages with equal permissions; gaps between segments stay unmapped.
  const pages = [...pagePerms.keys()].sort((x, y) => x - y);
  let i = 0;
  while (i < pages.length) {
    let j = i;
    const perms = pagePerms.get(pages[i])!;
    while (j + 1 < pages.length && pages[j + 1] === pages[j] + PAGE && pagePerms.get(pages[j + 1]) === perms) j++;
    const start = pages[i];
    const size = pages[j] + PAGE - start;
    const seg = loads.find((p) => pageFloor(p.vaddr) <= start && start < p.vaddr + p.memsz)!;
    const fileOffset = Math.max(0, seg.offset - (seg.vaddr - start));
    mem.map(start + b, size, perms, image.path, { chunk, offset: start - minV }, fileOffset);
    i = j + 1;
  }
  const phdrSeg = image.programs.find((p) => p.type === PT_PHDR);
  const firstLoad = loads.find((p) => p.offset === 0) ?? loads[0];
  const phdr = phdrSeg ? phdrSeg.vaddr : firstLoad.vaddr - firstLoad.offset + image.phoff;
  return { image, bias: b, phdr: phdr + b, entry: image.entry + b, end: maxV + b, lo: minV + b };
}
