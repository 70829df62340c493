import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackupRepository, findPartition, type SegmentEntry } from '../../../runtime/format/index.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import type { ObjectStore } from '../../../runtime/storage/object-store.ts';
import { checkContinuity, expectedRecordCount } from '../../../runtime/validation/continuity.ts';
import { range, restoredOffsets, commitRun as run, TOPIC } from './runs.ts';

/** A backup of four runs of ten records each, one a day apart (clock injected). */
async function fourRuns(store: ObjectStore = new MemoryObjectStore()) {
  let now = 1_700_000_000_000;
  const repo = new BackupRepository(store, { now: () => now });
  const backup = await repo.create({ backupId: 'b' });
  const segments: SegmentEntry[][] = [];
  for (let i = 0; i < 4; i++) {
    segments.push(await run(backup, `run-${i + 1}`, i * 10, i * 10 + 10));
    now += 86_400_000;
  }
  return { repo, backup, segments, store, now: () => now };
}

function contents(store: MemoryObjectStore): Map<string, string> {
  return new Map([...store.objects].map(([k, v]) => [k, Buffer.from(v.bytes).toString('base64')]));
}

describe('Backup.prune (retention safe delete)', () => {
  test('records a prune commit, then deletes the pruned runs; the view keeps covered ranges and marks the gap', async () => {
    const { backup, segments, store } = await fourRuns();
    const result = await backup.prune({ keepLast: 2 });
    assert.deepEqual(result.prunedRuns, ['run-1', 'run-2']);
    assert.equal(result.plan.decisions.length, 4);
    assert.equal(result.deletedObjects, 2);
    const pruned = (segments[0] ?? []).concat(segments[1] ?? []);
    assert.equal(
      result.reclaimedBytes,
      pruned.reduce((n, s) => n + s.size, 0),
    );
    assert.equal(result.eligibleBytes, result.reclaimedBytes);
    for (const s of pruned) assert.equal(await store.head(s.key), undefined, `${s.key} deleted`);

    // A fresh reader (everything from storage) sees the same.
    const reopened = await new BackupRepository(store).openForWrite('b');
    const m = await reopened.manifest();
    assert.deepEqual(
      m.runs.map((r) => r.runId),
      ['run-3', 'run-4'],
    );
    assert.deepEqual(m.prunedRuns, ['run-1', 'run-2']);
    const p = findPartition(m, 't', 0);
    assert.ok(p);
    assert.deepEqual(p.covered, [{ start: 0n, end: 40n }]);
    assert.equal(p.nextOffset, 40n);
    assert.deepEqual(
      p.gaps.map((g) => [g.start, g.end, g.reason]),
      [[0n, 20n, 'pruned']],
    );
    assert.equal(p.recordCount, 20);
    assert.deepEqual(await restoredOffsets(reopened), range(20, 40));

    // Validation explains the pruned offsets instead of calling them holes.
    const continuity = checkContinuity(p, TOPIC.configs);
    assert.deepEqual(continuity.unexplained, []);
    assert.deepEqual(continuity.explained, { pruned: '20' });
    assert.equal(expectedRecordCount(p).expected, expectedRecordCount(p).stored);

    // The next incremental run continues where the backup stopped, not where the kept data starts.
    await run(reopened, 'run-5', 40, 45);
    assert.deepEqual(await restoredOffsets(reopened), range(20, 45));
  });

  test('pruning again is idempotent: no new commit, nothing deleted', async () => {
    const { backup, store } = await fourRuns();
    await backup.prune({ keepLast: 2 });
    const before = contents(store as MemoryObjectStore);
    const again = await backup.prune({ keepLast: 2 });
    assert.deepEqual(again.prunedRuns, []);
    assert.equal(again.deletedObjects, 0);
    assert.deepEqual(contents(store as MemoryObjectStore), before);
  });

  test('a dry run decides and reports but writes and deletes nothing', async () => {
    const { backup, store, segments } = await fourRuns();
    const before = contents(store as MemoryObjectStore);
    const result = await backup.prune({ keepLast: 1 }, { dryRun: true });
    assert.equal(result.dryRun, true);
    assert.deepEqual(
      result.plan.eligible.map((r) => r.runId),
      ['run-1', 'run-2', 'run-3'],
    );
    assert.equal(
      result.eligibleBytes,
      segments
        .slice(0, 3)
        .flat()
        .reduce((n, s) => n + s.size, 0),
    );
    assert.deepEqual([result.prunedRuns, result.deletedObjects, result.reclaimedBytes], [[], 0, 0]);
    assert.deepEqual(contents(store as MemoryObjectStore), before);
  });

  test('maxAgeDays counts from the last commit; minSuccessful keeps the newest finished run whatever the age', async () => {
    const { backup, now } = await fourRuns();
    const later = now() + 30 * 86_400_000;
    const result = await backup.prune({ maxAgeDays: 10 }, { now: later });
    assert.deepEqual(result.prunedRuns, ['run-1', 'run-2', 'run-3']);
    assert.deepEqual(
      (await backup.manifest()).runs.map((r) => r.runId),
      ['run-4'],
    );
  });

  test('an unfinished newest run does not count as successful: the finished run before it is kept too', async () => {
    const { backup } = await fourRuns();
    await run(backup, 'run-5', 40, 50, false);
    const result = await backup.prune({ keepLast: 1 });
    assert.deepEqual(result.prunedRuns, ['run-1', 'run-2', 'run-3']);
    assert.deepEqual(
      result.plan.decisions.slice(3).map((d) => [d.run.runId, d.kept]),
      [
        ['run-4', 'min-successful'],
        ['run-5', 'within-policy'],
      ],
    );
  });

  test('overlapping runs: offsets and objects a kept run holds survive the prune', async () => {
    const store = new MemoryObjectStore();
    const backup = await new BackupRepository(store).create({ backupId: 'o' });
    const a = await run(backup, 'a', 0, 30);
    // b backed up 20..49 as well (concurrently): its 20..29 segment has the same bytes, so the same key.
    const b = await run(backup, 'b', 20, 50);
    await run(backup, 'c', 50, 60);
    assert.equal(a[2]?.key, b[0]?.key);
    const result = await backup.prune({ keepLast: 2 });
    assert.deepEqual(result.prunedRuns, ['a']);
    assert.equal(result.deletedObjects, 2);
    const shared = b[0]?.key ?? assert.fail('b wrote a first segment');
    assert.ok(await store.head(shared), 'the shared object is kept');
    const p = findPartition(await backup.manifest(), 't', 0);
    assert.ok(p);
    assert.deepEqual(
      p.gaps.map((g) => [g.start, g.end, g.reason]),
      [[0n, 20n, 'pruned']],
    );
    assert.deepEqual(await restoredOffsets(backup), range(20, 60));
  });

  test('a delete that fails midway leaves the prune committed; the next pass deletes the leftovers', async () => {
    const memory = new MemoryObjectStore();
    let deletesLeft = 1;
    const flaky: ObjectStore = Object.assign(Object.create(memory), {
      delete: async (key: string) => {
        if (deletesLeft-- <= 0) throw new Error('storage went away');
        return memory.delete(key);
      },
    });
    const { segments } = await fourRuns(memory);
    const failing = await new BackupRepository(flaky).openForWrite('b');
    await assert.rejects(failing.prune({ keepLast: 2 }), /storage went away/);
    // Readers already ignore the pruned runs, though one object is still there.
    const backup = await new BackupRepository(memory).openForWrite('b');
    assert.deepEqual(
      (await backup.manifest()).runs.map((r) => r.runId),
      ['run-3', 'run-4'],
    );
    assert.deepEqual(await restoredOffsets(backup), range(20, 40));
    const again = await backup.prune({ keepLast: 2 });
    assert.deepEqual(again.prunedRuns, []);
    assert.equal(again.deletedObjects, 1);
    for (const s of (segments[0] ?? []).concat(segments[1] ?? []))
      assert.equal(await memory.head(s.key), undefined);
  });

  test('a writer check that fails stops the prune before anything is written', async () => {
    const { backup, store } = await fourRuns();
    const before = contents(store as MemoryObjectStore);
    await assert.rejects(
      backup.prune(
        { keepLast: 1 },
        {
          assertWriter: () => {
            throw new Error('lease lost');
          },
        },
      ),
      /lease lost/,
    );
    assert.deepEqual(contents(store as MemoryObjectStore), before);
  });

  test('prune commits survive snapshots', async () => {
    const store = new MemoryObjectStore();
    const backup = await new BackupRepository(store, { snapshotEvery: 2 }).create({ backupId: 's' });
    await run(backup, 'r1', 0, 10);
    await run(backup, 'r2', 10, 20);
    await run(backup, 'r3', 20, 30);
    await backup.prune({ keepLast: 1 }); // commit seq 3: a snapshot of 0..3 is written
    assert.ok(store.objects.has('s/snapshots/0000000003.json'));
    const m = await (await new BackupRepository(store).openForWrite('s')).manifest();
    assert.deepEqual(
      m.runs.map((r) => r.runId),
      ['r3'],
    );
    assert.deepEqual(
      findPartition(m, 't', 0)?.gaps.map((g) => g.reason),
      ['pruned'],
    );
  });
});
