import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OffsetsUsageError, parseStrategyName, parseTimestamp } from '../../../runtime/offsets/commands.ts';
import { mapLimit, mapSettled } from '../../../runtime/offsets/concurrency.ts';
import { ActiveGroupError } from '../../../runtime/offsets/group-admin.ts';
import { formatOffsetMapping, loadOffsetMapping } from '../../../runtime/offsets/mapping-store.ts';
import { offsetMappingToDocument } from '../../../runtime/offsets/offset-mapping.ts';
import {
  newSnapshotId,
  snapshotFromDocument,
  snapshotKey,
  snapshotToDocument,
} from '../../../runtime/offsets/snapshot-store.ts';

describe('parallelism', () => {
  test('never more than the limit in flight, and the limit is reached', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(5);
      inFlight--;
      return n * 2;
    });
    assert.deepEqual(results, [2, 4, 6, 8, 10, 12, 14]);
    assert.equal(peak, 3);
  });

  test('every item is attempted even when some fail', async () => {
    const settled = await mapSettled(['a', 'b', 'c'], 1, async (s) => {
      if (s === 'a') throw new Error('boom');
      return s;
    });
    assert.deepEqual(
      settled.map((s) => s.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
    await assert.rejects(
      mapLimit([1], 0, async () => 1),
      /positive integer/,
    );
  });
});

describe('command input', () => {
  test('strategy names are checked with the list of valid ones', () => {
    assert.equal(parseStrategyName('TO-EARLIEST'), 'to-earliest');
    assert.throws(
      () => parseStrategyName('auto'),
      (e: Error) => e instanceof OffsetsUsageError && /to-earliest, to-latest/.test(e.message),
    );
  });

  test('timestamps are epoch ms or RFC 3339', () => {
    assert.equal(parseTimestamp('1700000000000'), 1_700_000_000_000n);
    assert.equal(parseTimestamp('2023-11-14T22:13:20Z'), 1_700_000_000_000n);
    assert.throws(() => parseTimestamp('yesterday'), /RFC 3339/);
  });

  test('the active-members error names every member and says what to do', () => {
    const e = new ActiveGroupError([
      {
        group: 'billing',
        state: 'Stable',
        members: [
          { memberId: 'm-1', clientId: 'billing-app', host: '/10.0.0.7' },
          { memberId: 'm-2', clientId: 'billing-app', host: '/10.0.0.8', groupInstanceId: 'pod-2' },
        ],
      },
    ]);
    assert.match(
      e.message,
      /billing \(Stable\): m-1 \[client billing-app on \/10\.0\.0\.7\], m-2 .*instance pod-2/,
    );
    assert.match(e.message, /Stop these consumers and retry/);
  });
});

describe('snapshots and mappings', () => {
  test('snapshot ids sort by time and documents round-trip', () => {
    const a = newSnapshotId(new Date('2026-01-01T00:00:00Z'));
    const b = newSnapshotId(new Date('2026-01-02T00:00:00Z'));
    assert.ok(a < b);
    assert.match(snapshotKey(a), /^offset-snapshots\/snap-20260101T000000Z-[0-9a-f]{8}\.json$/);
    assert.throws(() => snapshotKey('../etc/passwd'), /not a snapshot id/);
    const snap = {
      snapshotId: a,
      createdAt: '2026-01-01T00:00:00.000Z',
      cluster: 'kafka://x:9092',
      groups: new Map([['g', [{ topic: 't', partition: 0, offset: 2n ** 62n }]]]),
    };
    assert.deepEqual(snapshotFromDocument(JSON.parse(JSON.stringify(snapshotToDocument(snap))), 'x'), snap);
  });

  test('the only restore mapping is found; several need --restore-id; none says what to do', async () => {
    const doc = offsetMappingToDocument({
      backupId: 'b',
      restoreId: 'r1',
      partitions: [
        {
          sourceTopic: 's',
          sourcePartition: 0,
          targetTopic: 't',
          targetPartition: 0,
          ranges: [{ source: 5n, target: 0n, count: 3 }],
        },
      ],
    });
    const docs = new Map<string, unknown>([['offset-mappings/r1', doc]]);
    const backup = {
      backupId: 'b',
      getDocument: async <T>(name: string) => docs.get(name) as T | undefined,
      listDocuments: async (prefix = '') => [...docs.keys()].filter((k) => k.startsWith(prefix)),
    };
    const mapping = await loadOffsetMapping(backup);
    assert.equal(mapping.restoreId, 'r1');
    assert.match(
      formatOffsetMapping(mapping),
      /s\/0 -> t\/0: 3 record\(s\) in 1 range\(s\)\n {4}source 5\.\.7 -> target 0\.\.2/,
    );
    docs.set('offset-mappings/r2', doc);
    await assert.rejects(loadOffsetMapping(backup), /choose one with --restore-id/);
    await assert.rejects(loadOffsetMapping(backup, 'nope'), /no offset mapping 'offset-mappings\/nope'/);
    docs.clear();
    await assert.rejects(loadOffsetMapping(backup), /restore it first/);
  });
});
