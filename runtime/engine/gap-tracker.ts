import type { GapReason, OffsetGap } from '../format/types.ts';
import type { SkippedRange } from '../kafka/port.ts';

/**
 * Classifies every offset a backup passes without storing a record: transaction markers and
 * aborted records (reported by the fetch), offsets the log cleaner removed (holes nothing else
 * explains), and offsets deleted by retention before they were read. Adjacent gaps of the same
 * reason are merged so a compacted topic costs one entry per hole, not per offset.
 */
export class GapTracker {
  #gaps: OffsetGap[] = [];

  add(start: bigint, end: bigint, reason: GapReason, detectedAt?: number): void {
    if (end <= start) return;
    const last = this.#gaps.at(-1);
    if (last && last.end === start && last.reason === reason) {
      this.#gaps[this.#gaps.length - 1] = { ...last, end };
      return;
    }
    this.#gaps.push({ start, end, reason, ...(detectedAt !== undefined ? { detectedAt } : {}) });
  }

  /**
   * Records the holes in [from, to) left between stored record offsets: inside `skipped` they are
   * transaction markers/aborted records, elsewhere compaction.
   */
  addHoles(from: bigint, to: bigint, skipped: readonly SkippedRange[]): void {
    let cursor = from;
    for (const s of skipped) {
      if (s.end <= cursor || s.start >= to) continue;
      const start = s.start > cursor ? s.start : cursor;
      if (start > cursor) this.add(cursor, start, 'compaction');
      const end = s.end < to ? s.end : to;
      this.add(start, end, 'transaction-markers');
      cursor = end;
    }
    if (cursor < to) this.add(cursor, to, 'compaction');
  }

  /**
   * The first sub-range of [from, to) that `skipped` does not explain, if any. On a topic that is not
   * compacted such a hole means records were lost on the way, never that the log has none there.
   */
  static unexplained(
    from: bigint,
    to: bigint,
    skipped: readonly SkippedRange[],
  ): { start: bigint; end: bigint } | undefined {
    let cursor = from;
    for (const s of skipped) {
      if (s.end <= cursor || s.start >= to) continue;
      if (s.start > cursor) return { start: cursor, end: s.start };
      cursor = s.end;
      if (cursor >= to) return undefined;
    }
    return cursor < to ? { start: cursor, end: to } : undefined;
  }

  /** Removes and returns every gap recorded so far. */
  take(): OffsetGap[] {
    const out = this.#gaps;
    this.#gaps = [];
    return out;
  }

  get size(): number {
    return this.#gaps.length;
  }
}
