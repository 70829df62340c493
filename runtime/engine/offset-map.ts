import type { OffsetRange } from '../offsets/offset-mapping.ts';

/**
 * Range-compressed source→target offsets of one (source partition, target partition) pair, built in
 * restore order. Unlike runtime/offsets' OffsetRangeBuilder it can be seeded from stored ranges, so
 * a resumed restore continues the mapping of the interrupted one.
 */
export class MappingBuilder {
  readonly #ranges: { source: bigint; target: bigint; count: number }[];

  constructor(seed: readonly OffsetRange[] = []) {
    this.#ranges = seed.map((r) => ({ ...r }));
  }

  add(source: bigint, target: bigint): void {
    const last = this.#ranges.at(-1);
    if (last) {
      const n = BigInt(last.count);
      if (source < last.source + n || target < last.target + n) {
        throw new Error(`offset mapping must increase: ${source} -> ${target} after ${last.source + n - 1n}`);
      }
      if (source === last.source + n && target === last.target + n) {
        last.count++;
        return;
      }
    }
    this.#ranges.push({ source, target, count: 1 });
  }

  ranges(): OffsetRange[] {
    return this.#ranges.map((r) => ({ ...r }));
  }
}

export type StoredRange = readonly [source: string, target: string, count: number];

export function rangesToJson(ranges: readonly OffsetRange[]): StoredRange[] {
  return ranges.map((r) => [r.source.toString(), r.target.toString(), r.count] as const);
}

export function rangesFromJson(ranges: readonly StoredRange[]): OffsetRange[] {
  return ranges.map(([s, t, count]) => ({ source: BigInt(s), target: BigInt(t), count }));
}
