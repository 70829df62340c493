import { fullBlockCapacity } from '../format/block-buffer.ts';
import type { SegmentEntry } from '../format/types.ts';
import type { Logger } from '../log.ts';

/**
 * How many partitions a backup or a restore can have in progress at once within the memory the
 * process may still use. A backup's partition holds its segment's buffer and, while the previous
 * segment is sealed, a second one; a restore's holds the segment it produces and the next one, read
 * ahead. At the default 128 MiB segments, four partitions at once needed ~930 MiB: the backup, or,
 * run in-process, the operator, was killed under the chart's 512 MiB limit.
 */

/** Kept free for what is not segments: the socket's garbage between collections, zstd, the client. */
export const MEMORY_HEADROOM_BYTES = 128 * 1024 * 1024;

/** A backup's buffers per partition: two full segment blocks. */
export function segmentBuffersPerPartition(segmentMaxBytes: number): number {
  return 2 * fullBlockCapacity(segmentMaxBytes);
}

/** A restore's per partition: the largest segment it reads, stored and decoded, twice (read-ahead). */
export function segmentReadsPerPartition(
  segments: Iterable<Pick<SegmentEntry, 'size' | 'uncompressedSize'>>,
): number {
  let largest = 0;
  for (const s of segments) largest = Math.max(largest, s.size + s.uncompressedSize);
  return 2 * largest;
}

/**
 * `requested` partitions, or fewer when `perPartitionBytes` each would not fit in `availableBytes`
 * less the headroom; never fewer than one.
 */
export function partitionsThatFit(
  requested: number,
  perPartitionBytes: number,
  availableBytes: number,
): number {
  if (perPartitionBytes <= 0) return Math.max(1, requested);
  const fit = Math.floor((availableBytes - MEMORY_HEADROOM_BYTES) / perPartitionBytes);
  return Math.max(1, Math.min(requested, fit));
}

/**
 * partitionsThatFit() for this process (its memory limit less what it uses: process.availableMemory()),
 * saying so in the log when it is fewer than requested, with `hint` on what to change.
 */
export function partitionsAtOnce(
  requested: number,
  perPartitionBytes: number,
  log: Logger,
  hint: string,
  availableBytes: number = process.availableMemory(),
): number {
  const fit = partitionsThatFit(requested, perPartitionBytes, availableBytes);
  if (fit < requested) {
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    log.warn(
      'fewer partitions at once than maxConcurrentPartitions: their segments would not fit in memory',
      {
        maxConcurrentPartitions: requested,
        partitionsAtOnce: fit,
        segmentMiBPerPartition: mib(perPartitionBytes),
        availableMiB: mib(availableBytes),
        hint,
      },
    );
  }
  return fit;
}
