import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BackupExistsError,
  BackupRepository,
  CorruptObjectError,
  EncryptionKeyError,
  findPartition,
  type KafkaRecord,
  planPartition,
  type SegmentEntry,
  selectRecords,
} from '../../../runtime/format/index.ts';
import { FilesystemObjectStore } from '../../../runtime/storage/filesystem.ts';
import { sameRecords } from './arbitraries.ts';

const rec = (offset: number, timestamp = 1000 + offset): KafkaRecord => ({
  offset: BigInt(offset),
  timestamp: BigInt(timestamp),
  timestampType: 'CreateTime',
  key: Buffer.from(`k${offset}`),
  value: Buffer.from(`v${offset}`),
  headers: [],
});

let dir: string;
let store: FilesystemObjectStore;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kb-repo-'));
  store = new FilesystemObjectStore(dir);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes records [from, to) of t/0 as segments of `per` records and commits them as one run. */
async function backupRange(
  repo: BackupRepository,
  backupId: string,
  runId: string,
  from: number,
  to: number,
  per = 10,
) {
  const backup = await repo.openOrCreate({ backupId });
  const writer = backup.newSegmentWriter({ topic: 't', partition: 0 }, { maxRecords: per });
  const segments: SegmentEntry[] = [];
  for (let o = from; o < to; o++) {
    if (writer.append(rec(o))) segments.push(await backup.writeSegment((await writer.seal())!, runId));
  }
  const last = await writer.seal();
  if (last) segments.push(await backup.writeSegment(last, runId));
  return backup.commit({
    runId,
    mode: 'incremental',
    final: true,
    topics: [{ name: 't', partitionCount: 1, configs: { 'cleanup.policy': 'delete' } }],
    partitions: [
      { topic: 't', partition: 0, segments, covered: { start: BigInt(from), end: BigInt(to) }, gaps: [] },
    ],
  });
}

describe('BackupRepository', () => {
  test('incremental runs continue where the previous stopped; a restore reads them all in order', async () => {
    const repo = new BackupRepository(store);
    await backupRange(repo, 'inc', 'run-1', 0, 25);
    const backup = await repo.openForWrite('inc');
    assert.equal(findPartition(await backup.manifest(), 't', 0)?.nextOffset, 25n);
    await backupRange(repo, 'inc', 'run-2', 25, 40);
    const m = await (await repo.open('inc')).manifest();
    const p = findPartition(m, 't', 0)!;
    assert.deepEqual(p.covered, [{ start: 0n, end: 40n }]);
    assert.equal(p.nextOffset, 40n);
    assert.deepEqual(
      m.runs.map((r) => [r.runId, r.firstSeq, r.recordCount]),
      [
        ['run-1', 0, 25],
        ['run-2', 1, 15],
      ],
    );
    assert.equal(m.topics[0]?.metadata.configs['cleanup.policy'], 'delete');
    const plan = planPartition(p);
    const restored: KafkaRecord[] = [];
    for (const read of plan.reads)
      restored.push(...selectRecords((await backup.readSegment(read.segment)).records, read, {}));
    assert.ok(
      sameRecords(
        restored,
        Array.from({ length: 40 }, (_, i) => rec(i)),
      ),
    );
    assert.deepEqual([...plan.runIds].sort(), ['run-1', 'run-2']);
  });

  test('concurrent commits get distinct sequence numbers and both survive', async () => {
    const repo = new BackupRepository(store);
    await repo.create({ backupId: 'conc' });
    const a = await repo.openForWrite('conc');
    const b = await repo.openForWrite('conc');
    const input = (runId: string) => ({
      runId,
      mode: 'continuous' as const,
      final: false,
      topics: [],
      partitions: [],
    });
    const [ca, cb] = await Promise.all([a.commit(input('a')), b.commit(input('b'))]);
    assert.deepEqual([ca.seq, cb.seq].sort(), [0, 1]);
    assert.equal((await a.manifest()).runs.length, 2);
  });

  test('overlapping runs: the planner reads each offset once', async () => {
    const repo = new BackupRepository(store);
    await backupRange(repo, 'overlap', 'r1', 0, 30);
    await backupRange(repo, 'overlap', 'r2', 15, 45, 7);
    const backup = await repo.open('overlap');
    const plan = planPartition(findPartition(await backup.manifest(), 't', 0)!);
    const offsets: bigint[] = [];
    for (const read of plan.reads) {
      offsets.push(
        ...selectRecords((await backup.readSegment(read.segment)).records, read, {}).map((r) => r.offset),
      );
    }
    assert.deepEqual(
      offsets,
      Array.from({ length: 45 }, (_, i) => BigInt(i)),
    );
  });

  test('create refuses an existing id; list and latest use the catalog', async () => {
    let now = 10;
    const repo = new BackupRepository(store, { now: () => now++ });
    await repo.create({ backupId: 'list-a' });
    await repo.create({ backupId: 'list-b' });
    await assert.rejects(repo.create({ backupId: 'list-a' }), BackupExistsError);
    const ids = (await repo.list()).map((s) => s.backupId);
    assert.ok(ids.includes('list-a') && ids.includes('list-b'));
    assert.equal((await repo.latest())?.format, 'kafka-backup-v1');
  });

  test('a damaged segment is named when read; a missing one too', async () => {
    const repo = new BackupRepository(store);
    await backupRange(repo, 'damaged', 'r1', 0, 20);
    const backup = await repo.open('damaged');
    const [s0, s1] = findPartition(await backup.manifest(), 't', 0)!.segments;
    const bytes = Buffer.from(await store.get(s0!.key));
    const at = bytes.length - 20;
    bytes[at] = (bytes[at] as number) ^ 1;
    await store.put(s0!.key, bytes);
    await assert.rejects(
      backup.readSegment(s0!),
      (e: unknown) => e instanceof CorruptObjectError && e.key === s0!.key,
    );
    await store.delete(s1!.key);
    await assert.rejects(
      backup.verifySegment(s1!, false),
      (e: unknown) => e instanceof CorruptObjectError && e.key === s1!.key,
    );
  });

  test('an encrypted backup needs its own key to open', async () => {
    const repo = new BackupRepository(store);
    const key = { key: new Uint8Array(32).fill(7) };
    const backup = await repo.create({ backupId: 'enc', encryption: key, compression: 'gzip' });
    const w = backup.newSegmentWriter({ topic: 't', partition: 0 });
    w.append(rec(0));
    const entry = await backup.writeSegment((await w.seal())!, 'r');
    assert.equal(entry.encrypted, true);
    await assert.rejects(repo.open('enc'), EncryptionKeyError);
    await assert.rejects(repo.open('enc', { encryption: { key: new Uint8Array(32) } }), /key id/);
    const opened = await repo.open('enc', { encryption: key });
    assert.ok(sameRecords((await opened.readSegment(entry)).records, [rec(0)]));
  });

  test('documents round-trip under predictable keys', async () => {
    const repo = new BackupRepository(store);
    const backup = await repo.create({ backupId: 'docs' });
    await backup.putDocument('offset-mappings/restore-1', { ranges: [[0n, 10n]] });
    assert.deepEqual(await backup.getDocument('offset-mappings/restore-1'), { ranges: [['0', '10']] });
    assert.equal(await backup.getDocument('nothing'), undefined);
    assert.deepEqual(await backup.listDocuments('offset-mappings/'), ['offset-mappings/restore-1']);
    assert.ok(await store.head('docs/documents/offset-mappings/restore-1.json'));
  });

  test('a commit whose segments lie outside its covered range is refused', async () => {
    const repo = new BackupRepository(store);
    const backup = await repo.create({ backupId: 'bad-commit' });
    const w = backup.newSegmentWriter({ topic: 't', partition: 0 });
    w.append(rec(5));
    const entry = await backup.writeSegment((await w.seal())!, 'r');
    await assert.rejects(
      backup.commit({
        runId: 'r',
        mode: 'one-shot',
        final: true,
        topics: [],
        partitions: [
          { topic: 't', partition: 0, segments: [entry], covered: { start: 0n, end: 5n }, gaps: [] },
        ],
      }),
      /outside the covered range/,
    );
  });
});

describe('commit snapshots', () => {
  test('a long-running backup opens from its newest snapshot plus the commits after it', async () => {
    const { MemoryObjectStore } = await import('../../../runtime/storage/memory.ts');
    const mem = new MemoryObjectStore();
    const writer = new BackupRepository(mem, { snapshotEvery: 3 });
    const backup = await writer.create({ backupId: 'snap' });
    for (let i = 0; i < 7; i++) {
      await backup.commit({
        runId: 'continuous-1',
        mode: 'continuous',
        final: false,
        topics: [{ name: 't', partitionCount: 1, configs: {} }],
        partitions: [
          {
            topic: 't',
            partition: 0,
            segments: [],
            covered: { start: BigInt(i * 10), end: BigInt(i * 10 + 10) },
            gaps: [],
          },
        ],
      });
    }
    const snapshots = [...mem.objects.keys()].filter((k) => k.startsWith('snap/snapshots/'));
    assert.deepEqual(snapshots, ['snap/snapshots/0000000002.json', 'snap/snapshots/0000000005.json']);

    const gets: string[] = [];
    const counting = Object.assign(Object.create(mem), {
      get: (key: string) => {
        gets.push(key);
        return mem.get(key);
      },
    });
    const fresh = await new BackupRepository(counting).open('snap');
    const m = await fresh.manifest();
    assert.equal(m.lastSeq, 6);
    assert.deepEqual(findPartition(m, 't', 0)?.covered, [{ start: 0n, end: 70n }]);
    assert.deepEqual(gets, [
      'snap/backup.json',
      'snap/snapshots/0000000005.json',
      'snap/commits/0000000006.json',
    ]);
    assert.deepEqual(await (await writer.open('snap')).manifest(), m);
  });
});

describe('merge', () => {
  test('a segment committed twice (resume after an ambiguous commit) counts once', async () => {
    const { MemoryObjectStore } = await import('../../../runtime/storage/memory.ts');
    const repo = new BackupRepository(new MemoryObjectStore());
    const backup = await repo.create({ backupId: 'twice' });
    const w = backup.newSegmentWriter({ topic: 't', partition: 0 });
    w.append(rec(0));
    w.append(rec(1));
    const entry = await backup.writeSegment((await w.seal())!, 'r');
    const commit = {
      runId: 'r',
      mode: 'one-shot' as const,
      final: false,
      topics: [],
      partitions: [
        { topic: 't', partition: 0, segments: [entry], covered: { start: 0n, end: 2n }, gaps: [] },
      ],
    };
    await backup.commit(commit);
    await backup.commit({ ...commit, final: true });
    const p = findPartition(await backup.manifest(), 't', 0)!;
    assert.equal(p.segments.length, 1);
    assert.equal(p.recordCount, 2);
  });
});

describe('orphan segments', () => {
  test('segments of an interrupted run are found once old enough; committed ones never', async () => {
    const { MemoryObjectStore } = await import('../../../runtime/storage/memory.ts');
    const mem = new MemoryObjectStore();
    let now = Date.now();
    const repo = new BackupRepository(mem, { now: () => now });
    const backup = await repo.create({ backupId: 'orphans' });
    const w = backup.newSegmentWriter({ topic: 't', partition: 0 }, { maxRecords: 1 });
    w.append(rec(0));
    const committed = await backup.writeSegment((await w.seal())!, 'r1');
    await backup.commit({
      runId: 'r1',
      mode: 'one-shot',
      final: true,
      topics: [],
      partitions: [
        { topic: 't', partition: 0, segments: [committed], covered: { start: 0n, end: 1n }, gaps: [] },
      ],
    });
    w.append(rec(1));
    const orphan = await backup.writeSegment((await w.seal())!, 'r2'); // the run dies before committing
    assert.deepEqual(await backup.orphanSegments({ olderThanMs: 3600_000 }), []);
    now += 2 * 3600_000;
    assert.deepEqual(
      (await backup.orphanSegments({ olderThanMs: 3600_000 })).map((o) => o.key),
      [orphan.key],
    );
  });
});
