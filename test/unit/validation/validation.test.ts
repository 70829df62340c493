import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PartitionState } from '../../../runtime/format/types.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import { checkContinuity, expectedRecordCount, innerHoles } from '../../../runtime/validation/continuity.ts';
import { checkGroupSnapshot, parseBackupGroupSnapshot } from '../../../runtime/validation/group-snapshot.ts';
import { compareRecord, sampleSegments } from '../../../runtime/validation/restore-sample.ts';
import {
  compareWithWatermarks,
  sourceWatermarksDocument,
  sourceWatermarksDocumentName,
} from '../../../runtime/validation/source-watermarks.ts';
import { validateBackup } from '../../../runtime/validation/validate.ts';
import { range, record, writeBackup } from './backup-fixture.ts';

function partition(over: Partial<PartitionState>): PartitionState {
  return {
    topic: 't',
    partition: 0,
    segments: [],
    covered: [],
    gaps: [],
    nextOffset: undefined,
    recordCount: 0,
    bytes: 0,
    ...over,
  };
}

function seg(first: bigint, last: bigint, recordCount: number) {
  return {
    topic: 't',
    partition: 0,
    key: `s${first}`,
    firstOffset: first,
    lastOffset: last,
    minTimestamp: 0n,
    maxTimestamp: 0n,
    recordCount,
    size: 1,
    uncompressedSize: 1,
    compression: 'none' as const,
    encrypted: false,
    sha256: 'x',
    runId: 'r',
    timestampsAreBounds: true,
  };
}

describe('offset continuity', () => {
  test('holes between segments must be recorded gaps; each reason is counted', () => {
    const p = partition({
      segments: [seg(0n, 9n, 10), seg(20n, 29n, 10), seg(40n, 49n, 10)],
      covered: [{ start: 0n, end: 50n }],
      gaps: [{ start: 10n, end: 20n, reason: 'retention' }],
    });
    const f = checkContinuity(p, {});
    assert.deepEqual(
      f.unexplained.map((u) => [u.start, u.end, u.where]),
      [[30n, 40n, 'between-segments']],
    );
    assert.deepEqual(f.explained, { retention: '10' });
  });

  test('holes inside segments (deep mode) are explained by compaction and transaction gaps', () => {
    const p = partition({
      segments: [seg(0n, 9n, 7)],
      covered: [{ start: 0n, end: 10n }],
      gaps: [
        { start: 3n, end: 5n, reason: 'compaction' },
        { start: 7n, end: 8n, reason: 'transaction-markers' },
      ],
    });
    const holes = innerHoles([0n, 1n, 2n, 5n, 6n, 8n, 9n], 0n, 9n);
    assert.deepEqual(holes, [
      { start: 3n, end: 5n },
      { start: 7n, end: 8n },
    ]);
    const compacted = checkContinuity(p, { 'cleanup.policy': 'compact' }, holes);
    assert.deepEqual(compacted.unexplained, []);
    assert.deepEqual(compacted.warnings, []);
    const notCompacted = checkContinuity(p, {}, holes);
    assert.match(notCompacted.warnings[0] ?? '', /cleanup.policy is not compact/);
    const unexplained = checkContinuity({ ...p, gaps: [] }, {}, holes);
    assert.deepEqual(
      unexplained.unexplained.map((u) => u.where),
      ['inside-segment', 'inside-segment'],
    );
  });

  test('a hole between two runs is unexplained', () => {
    const p = partition({
      segments: [seg(0n, 9n, 10), seg(20n, 29n, 10)],
      covered: [
        { start: 0n, end: 10n },
        { start: 20n, end: 30n },
      ],
    });
    assert.deepEqual(
      checkContinuity(p, {}).unexplained.map((u) => [u.start, u.end]),
      [[10n, 20n]],
    );
  });

  test('expected record count is covered minus gaps, and overlaps are flagged', () => {
    const p = partition({
      segments: [seg(0n, 9n, 10), seg(15n, 19n, 5)],
      covered: [{ start: 0n, end: 20n }],
      gaps: [{ start: 10n, end: 15n, reason: 'compaction' }],
      recordCount: 15,
    });
    assert.deepEqual(expectedRecordCount(p), { expected: 15n, stored: 15n, overlapping: false });
    assert.equal(
      expectedRecordCount({ ...p, segments: [seg(0n, 9n, 10), seg(5n, 19n, 15)] }).overlapping,
      true,
    );
  });
});

describe('source watermarks', () => {
  test('the backup must cover every offset the source had at run start', async () => {
    const store = new MemoryObjectStore();
    const { backup } = await writeBackup(store, 'b1', 't', [
      { partition: 0, offsets: range(5, 20) },
      { partition: 1, offsets: range(0, 8) },
    ]);
    const manifest = await backup.manifest();
    const doc = sourceWatermarksDocument(
      'run-1',
      new Date(0),
      new Map([
        ['t/0', { logStartOffset: 5n, endOffset: 20n }],
        ['t/1', { logStartOffset: 0n, endOffset: 10n }],
      ]),
    );
    assert.equal(sourceWatermarksDocumentName('run-1'), 'source-watermarks/run-1');
    const findings = compareWithWatermarks(manifest, [doc]);
    assert.deepEqual(
      findings.map((f) => [f.topic, f.partition, f.missing, f.runUnfinished]),
      [['t', 1, [{ start: '8', end: '10' }], false]],
    );
  });
});

describe('consumer-group snapshot consistency', () => {
  test('offsets on missing partitions fail, offsets before the backup warn, ahead is noted', async () => {
    const { backup } = await writeBackup(new MemoryObjectStore(), 'b2', 't', [
      { partition: 0, offsets: range(10, 20) },
    ]);
    const snapshot = parseBackupGroupSnapshot(
      {
        version: 1,
        runId: 'run-1',
        groups: { g: { t: { '0': '15' } }, h: { t: { '0': '3', '9': '1' } }, i: { t: { '0': '25' } } },
      },
      'doc',
    );
    const findings = checkGroupSnapshot(await backup.manifest(), snapshot);
    assert.deepEqual(
      findings.map((f) => [f.group, f.partition, f.problem]),
      [
        ['h', 0, 'before-backed-up-data'],
        ['h', 9, 'partition-not-in-backup'],
        ['i', 0, 'beyond-backed-up-data'],
      ],
    );
    assert.throws(() => parseBackupGroupSnapshot({ version: 9 }, 'doc'), /unsupported version/);
  });
});

describe('restore sample helpers', () => {
  test('sampling spreads over the partition and skips known-corrupt objects', () => {
    const segs = [
      seg(0n, 9n, 10),
      seg(10n, 19n, 10),
      seg(20n, 29n, 10),
      seg(30n, 39n, 10),
      seg(40n, 49n, 10),
    ];
    assert.deepEqual(
      sampleSegments(segs, 3).map((s) => s.firstOffset),
      [0n, 20n, 40n],
    );
    assert.deepEqual(
      sampleSegments(segs, 1).map((s) => s.firstOffset),
      [40n],
    );
    assert.equal(sampleSegments(segs, 'all', new Set(['s10'])).length, 4);
  });

  test('record comparison distinguishes null from empty and header order', () => {
    const r = record(5n);
    assert.equal(compareRecord(r, { ...r }), undefined);
    assert.equal(compareRecord(r, { ...r, key: null }), 'key');
    assert.equal(compareRecord(r, { ...r, headers: [...r.headers].reverse() }), 'header 0 value');
    assert.equal(compareRecord(r, { ...r, timestamp: r.timestamp + 1n }), 'timestamp');
    assert.equal(compareRecord(r, undefined), 'missing after restore');
  });
});

describe('validateBackup', () => {
  test('a healthy backup passes every check it can run, in quick and deep mode', async () => {
    const store = new MemoryObjectStore();
    const offsets = range(0, 30).filter((o) => o < 12n || o > 14n); // a compaction hole inside a segment
    const { backup } = await writeBackup(
      store,
      'healthy',
      't',
      [{ partition: 0, offsets, gaps: [{ start: 12n, end: 15n, reason: 'compaction' }] }],
      { configs: { 'cleanup.policy': 'compact' } },
    );
    await backup.putDocument(
      sourceWatermarksDocumentName('run-1'),
      sourceWatermarksDocument(
        'run-1',
        new Date(0),
        new Map([['t/0', { logStartOffset: 0n, endOffset: 30n }]]),
      ),
    );
    await backup.putDocument('consumer-groups/latest', { version: 1, groups: { g: { t: { '0': '20' } } } });
    for (const deep of [false, true]) {
      const results = await validateBackup(backup, { deep });
      const outcomes = Object.fromEntries(results.map((r) => [r.name, r.outcome]));
      assert.deepEqual(outcomes, {
        'segment-integrity': 'passed',
        'record-counts': 'passed',
        'offset-continuity': 'passed',
        'source-watermarks': 'passed',
        'consumer-group-snapshot': 'passed',
        'restore-sample': 'skipped',
      });
    }
  });

  test('a corrupted segment fails segment-integrity naming the object (deep), a truncated one even in quick mode', async () => {
    const store = new MemoryObjectStore();
    const { backup, segments } = await writeBackup(store, 'corrupt', 't', [
      { partition: 0, offsets: range(0, 30) },
    ]);
    const victim = segments[1]?.key as string;
    const bytes = Uint8Array.from(await store.get(victim));
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff;
    await store.put(victim, bytes);

    const quick = await validateBackup(backup, { deep: false });
    assert.equal(
      quick.find((r) => r.name === 'segment-integrity')?.outcome,
      'passed',
      'same size: only deep sees it',
    );
    const deep = await validateBackup(backup, { deep: true });
    const integrity = deep.find((r) => r.name === 'segment-integrity');
    assert.equal(integrity?.outcome, 'failed');
    assert.ok(integrity?.summary.includes(victim), integrity?.summary);

    await store.put(victim, bytes.subarray(0, bytes.length - 5));
    const truncated = await validateBackup(backup, { deep: false });
    const quickIntegrity = truncated.find((r) => r.name === 'segment-integrity');
    assert.equal(quickIntegrity?.outcome, 'failed');
    assert.ok(quickIntegrity?.summary.includes(victim));
  });

  test('an unexplained offset gap fails offset-continuity and record-counts', async () => {
    const store = new MemoryObjectStore();
    const offsets = range(0, 30).filter((o) => o !== 17n);
    const { backup } = await writeBackup(store, 'gappy', 't', [{ partition: 0, offsets }], {
      perSegment: 100,
    });
    const results = await validateBackup(backup, { deep: true });
    const continuity = results.find((r) => r.name === 'offset-continuity');
    assert.equal(continuity?.outcome, 'failed');
    assert.match(continuity?.summary ?? '', /t\/0 \[17, 18\)/);
    assert.equal(results.find((r) => r.name === 'record-counts')?.outcome, 'failed');
  });
});
