/**
 * The heap part of memcheck's describe_addr: which block an address belongs to, searched in
 * memcheck's order — ordinary mempool chunks, then live malloc'd blocks (with their redzones),
 * then the freed-block queue, then metapool chunks — and the AddressInfo the error writers print.
 * (Client blocks from CREATE_BLOCK come before all of these, and stack, data symbols and
 * segments after; those belong to the caller.)
 */
import type { AddressInfo, BlockKind } from '../errors/address-description';
import type { ErrorFrame } from '../errors/error-record';
import type { Block, Heap } from './heap';
import type { Mempools } from './mempools';

/** A heap block found for an address. */
export interface HeapBlockFact<C> {
  block: Block<C>;
  offset: number;
  /** 'mallocd' live heap block, 'freed' queued block, 'client' mempool chunk. */
  kind: Extract<BlockKind, 'mallocd' | 'freed' | 'client'>;
  /** "block", or "recently re-allocated block" for a live block over a queued freed one. */
  description: string;
}

/** Finds the heap block describing addr, in memcheck's order; undefined when none does. */
export function findHeapBlock<C>(addr: number, heap: Heap<C>, pools?: Mempools<C>): HeapBlockFact<C> | undefined {
  const chunk = pools?.describe(addr, false);
  if (chunk) return { block: chunk.block, offset: chunk.offset, kind: 'client', description: 'block' };
  const d = heap.describe(addr);
  if (d) {
    return d.state === 'live'
      ? { block: d.block, offset: d.offset, kind: 'mallocd', description: d.reallocated ? 'recently re-allocated block' : 'block' }
      : { block: d.block, offset: d.offset, kind: 'freed', description: 'block' };
  }
  const meta = pools?.describe(addr, true);
  if (meta) return { block: meta.block, offset: meta.offset, kind: 'client', description: 'block' };
  return undefined;
}

/**
 * The AddressInfo of a found heap block. `stackOf` turns an allocation or free context into
 * frames (undefined when --keep-stacktraces kept none).
 */
export function heapAddressInfo<C>(addr: number, fact: HeapBlockFact<C>, stackOf: (ctx: C) => ErrorFrame[] | undefined): AddressInfo {
  const b = fact.block;
  const allocStack = stackOf(b.allocCtx);
  const freeStack = fact.kind === 'freed' && b.freeCtx !== undefined ? stackOf(b.freeCtx) : undefined;
  return {
    tag: 'block',
    addr,
    kind: fact.kind,
    description: fact.description,
    size: b.size,
    offset: fact.offset,
    ...(allocStack ? { allocStack } : {}),
    ...(freeStack ? { freeStack } : {}),
  };
}
