import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RestoreRunResult } from '../../../../runtime/app/restore.ts';
import { resetOutcome } from '../../../../runtime/operator/controllers/offset-reset.ts';
import { rollbackOutcome } from '../../../../runtime/operator/controllers/offset-rollback.ts';
import {
  plannedGroups,
  restoreIdOf,
  restoreOutcome,
  restoreProgressStatus,
  snapshotUpkeep,
} from '../../../../runtime/operator/controllers/restore.ts';

const restored: RestoreRunResult = {
  outcome: 'complete',
  backupId: 'production-backup',
  restoreId: 'pitr-restore-1234abcd',
  dryRun: false,
  resumed: false,
  plan: {
    backupId: 'production-backup',
    topics: [{ source: ['orders'], target: 'orders', partitions: 2, repartitioned: false }],
    partitions: 2,
    maxRecords: 30,
    bytes: 300,
    segments: 2,
    timeRange: null,
    window: {},
  },
  records: 24,
  reconciled: 0,
  bytes: 240,
  segments: 3,
  durationMs: 1000,
  recordsPerSec: 24,
  bytesPerSec: 240,
  createdTopics: [],
  offsetMapping: 'offset-mappings/pitr-restore-1234abcd',
  partitions: [],
};

describe('how runs end in status', () => {
  test('a completed restore: Ready, records, offsetMappingPath', () => {
    const outcome = restoreOutcome(restored);
    assert.equal(outcome.phase, 'Completed');
    assert.equal(outcome.health, 'ready');
    assert.equal(outcome.status.offsetMappingPath, 'offset-mappings/pitr-restore-1234abcd');
    assert.equal(outcome.status.recordsRestored, 24);
    assert.equal(outcome.status.segmentsProcessed, 3);
    assert.equal(outcome.status.progressPercent, 100);
  });

  test('an interrupted restore (shutdown) is resumed, not ended', () => {
    assert.equal(restoreOutcome({ ...restored, outcome: 'interrupted' }).health, 'resume');
  });

  test('offsets that failed to commit: Failed; with autoRollbackOnFailure rolled back: RolledBack', () => {
    const consumerGroups = {
      failure: 'commit-failed' as const,
      text: 'commit refused',
      json: {
        snapshotId: 'snap-20261203T120000Z-1a2b3c4d',
        snapshotKey: 'offset-snapshots/snap-20261203T120000Z-1a2b3c4d.json',
      },
    };
    const failed = restoreOutcome({ ...restored, consumerGroups });
    assert.equal(failed.phase, 'Failed');
    assert.deepEqual(failed.status.rollback, {
      snapshotId: 'snap-20261203T120000Z-1a2b3c4d',
      rollbackAvailable: true,
      snapshotPath: 'offset-snapshots/snap-20261203T120000Z-1a2b3c4d.json',
      snapshotTime: '2026-12-03T12:00:00Z',
      expiresAt: '2026-12-04T12:00:00.000Z',
    });
    assert.equal(
      (restoreOutcome({ ...restored, consumerGroups }, 2).status.rollback as { expiresAt: string }).expiresAt,
      '2026-12-03T14:00:00.000Z',
      'rollback.snapshotRetentionHours',
    );
    const undone = restoreOutcome({
      ...restored,
      consumerGroups,
      rolledBack: { text: 'Rollback completed.', json: {} },
    });
    assert.equal(undone.phase, 'RolledBack');
    assert.match(undone.message, /put them back to snapshot snap-20261203T120000Z-1a2b3c4d/);
    const notUndone = restoreOutcome({
      ...restored,
      consumerGroups,
      rolledBack: { failure: 'commit-failed', text: 'Rollback FAILED', json: {} },
    });
    assert.equal(notUndone.phase, 'Failed');
    assert.equal(notUndone.reason, 'RollbackFailed');
  });

  test('an expired pre-restore snapshot is deleted; before that, looked at again at its expiry (at most daily)', () => {
    const rollback = { snapshotId: 'snap-1', rollbackAvailable: true, expiresAt: '2026-12-04T12:00:00Z' };
    assert.deepEqual(snapshotUpkeep(rollback, new Date('2026-12-04T11:00:00Z')), {
      action: 'wait',
      ms: 3_600_000,
    });
    assert.deepEqual(snapshotUpkeep(rollback, new Date('2026-12-01T00:00:00Z')), {
      action: 'wait',
      ms: 86_400_000,
    });
    assert.deepEqual(snapshotUpkeep(rollback, new Date('2026-12-04T12:00:01Z')), {
      action: 'delete',
      snapshotId: 'snap-1',
    });
    assert.deepEqual(
      snapshotUpkeep({ ...rollback, rollbackAvailable: false }, new Date('2027-01-01T00:00:00Z')),
      {
        action: 'none',
      },
    );
    assert.deepEqual(snapshotUpkeep(undefined, new Date()), { action: 'none' });
  });

  test('the plan names the groups whose offsets the restore commits', () => {
    const groups = ['orders-app'];
    assert.deepEqual(
      plannedGroups({ offsetReset: { enabled: true, strategy: 'header_based', consumerGroups: groups } }),
      groups,
    );
    assert.deepEqual(
      plannedGroups({ offsetReset: { enabled: true, strategy: 'manual', consumerGroups: groups } }),
      [],
    );
    assert.deepEqual(
      plannedGroups({ offsetReset: { enabled: false, strategy: 'auto', consumerGroups: groups } }),
      [],
    );
  });

  test('progress while running and stable restore ids per rerun', () => {
    assert.deepEqual(
      restoreProgressStatus({
        records: 10,
        bytes: 100,
        storedBytes: 50,
        totalRecords: 40,
        percent: 25.7,
        elapsedMs: 1000,
        recordsPerSec: 10.4,
        bytesPerSec: 100,
        etaMs: 2900.2,
      }),
      {
        progressPercent: 25,
        recordsRestored: 10,
        bytesRestored: 100,
        throughputRecordsPerSec: 10,
        etaMs: 2900,
      },
    );
    const object = { metadata: { name: 'r', uid: 'abcd1234-0000-0000-0000-000000000000' } };
    assert.equal(restoreIdOf(object, ''), 'r-abcd1234');
    assert.notEqual(restoreIdOf(object, 'again'), restoreIdOf(object, ''));
    assert.equal(restoreIdOf(object, 'again'), restoreIdOf(object, 'again'));
  });

  test('a reset: continueOnError decides between PartiallyCompleted and Failed', () => {
    const json = {
      status: 'failed',
      snapshotId: 's',
      snapshotKey: 'k',
      groups: [
        { group: 'a', status: 'committed' },
        { group: 'b', status: 'failed', error: 'refused' },
      ],
      mismatches: [],
    };
    const result = { failure: 'commit-failed' as const, text: '', json };
    const spec = { consumerGroups: ['a', 'b'] };
    assert.equal(resetOutcome(result, { ...spec, continueOnError: true }, 1000).phase, 'PartiallyCompleted');
    const failed = resetOutcome(result, spec, 1000);
    assert.equal(failed.phase, 'Failed');
    assert.deepEqual(failed.status, {
      groupsTotal: 2,
      groupsReset: 1,
      groupsFailed: 1,
      duration: '1.00s',
      snapshotId: 's',
      snapshotPath: 'k',
      groupResults: [
        { groupId: 'a', success: true, message: 'committed' },
        { groupId: 'b', success: false, error: 'refused', message: 'failed' },
      ],
    });
    const ok = resetOutcome(
      { text: '', json: { ...json, status: 'completed', groups: [json.groups[0]] } },
      spec,
      10,
    );
    assert.equal(ok.phase, 'Completed');
  });

  test('a rollback: verification in status', () => {
    const json = {
      status: 'completed',
      snapshotId: 's',
      groups: [{ group: 'a', status: 'committed' }],
      mismatches: [],
      verified: true,
      changes: [{ group: 'a' }],
    };
    const outcome = rollbackOutcome({ text: '', json }, 500);
    assert.equal(outcome.phase, 'Completed');
    assert.equal(outcome.status.verified, true);
    assert.deepEqual(outcome.status.verification, {
      allMatched: true,
      totalGroups: 1,
      matchedGroups: 1,
      mismatchedGroups: [],
    });
    const mismatch = rollbackOutcome(
      {
        failure: 'offsets-changed',
        text: '',
        json: { ...json, status: 'failed', mismatches: [{ group: 'a' }] },
      },
      500,
    );
    assert.equal(mismatch.phase, 'Failed');
    assert.equal(mismatch.status.verified, false);
  });
});
