import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MEMORY_HEADROOM_BYTES,
  partitionsAtOnce,
  partitionsThatFit,
  segmentBuffersPerPartition,
  segmentReadsPerPartition,
} from '../../../runtime/engine/memory-budget.ts';
import type { Logger } from '../../../runtime/log.ts';

const MiB = 1024 * 1024;

describe('partitions a backup or a restore has in progress at once, within its memory', () => {
  test('a backup partition needs two full segment blocks: 288 MiB at the default 128 MiB segments', () => {
    assert.equal(segmentBuffersPerPartition(128 * MiB), 288 * MiB);
    assert.equal(segmentBuffersPerPartition(16 * MiB), 36 * MiB);
  });

  test('a restore partition needs its largest segment, stored and decoded, twice (read-ahead)', () => {
    const segments = [
      { size: 10 * MiB, uncompressedSize: 100 * MiB },
      { size: 128 * MiB, uncompressedSize: 128 * MiB },
      { size: 1 * MiB, uncompressedSize: 2 * MiB },
    ];
    assert.equal(segmentReadsPerPartition(segments), 512 * MiB);
    assert.equal(segmentReadsPerPartition([]), 0);
  });

  test('under the operator default 512 MiB limit, default segments go one partition at a time', () => {
    assert.equal(partitionsThatFit(4, segmentBuffersPerPartition(128 * MiB), 500 * MiB), 1);
    // 16 MiB segments fit all four (4 x 36 MiB + headroom).
    assert.equal(partitionsThatFit(4, segmentBuffersPerPartition(16 * MiB), 500 * MiB), 4);
  });

  test('as many as fit, never more than asked, never fewer than one', () => {
    const per = segmentBuffersPerPartition(16 * MiB);
    assert.equal(partitionsThatFit(8, per, MEMORY_HEADROOM_BYTES + 3 * per), 3);
    assert.equal(partitionsThatFit(8, per, MEMORY_HEADROOM_BYTES + 3 * per - 1), 2);
    assert.equal(partitionsThatFit(2, per, 64 * 1024 * MiB), 2);
    assert.equal(partitionsThatFit(4, per, 0), 1);
    assert.equal(partitionsThatFit(3, 0, 0), 3); // nothing to read: no limit
  });

  test('fewer than asked is said in the log, with the figures and what to change', () => {
    const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
    const log = {
      warn: (msg: string, fields: Record<string, unknown>) => warnings.push({ msg, fields }),
    } as unknown as Logger;
    assert.equal(partitionsAtOnce(4, 288 * MiB, log, 'lower segmentMaxBytes', 500 * MiB), 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.msg ?? '', /fewer partitions at once/);
    assert.deepEqual(warnings[0]?.fields, {
      maxConcurrentPartitions: 4,
      partitionsAtOnce: 1,
      segmentMiBPerPartition: 288,
      availableMiB: 500,
      hint: 'lower segmentMaxBytes',
    });
    assert.equal(partitionsAtOnce(4, 36 * MiB, log, 'x', 500 * MiB), 4);
    assert.equal(warnings.length, 1);
  });
});
