/**
 * Retention's safe delete on real object stores: the prune commit's create-if-absent, listing and
 * deleting go through each adapter (filesystem, S3 on MinIO, Azure on Azurite, GCS on fake-gcs),
 * under the backup's run lease.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backupLeasePrefix } from '../../../runtime/engine/backup.ts';
import { RunLeaseConflict } from '../../../runtime/engine/errors.ts';
import { runRetention } from '../../../runtime/engine/retention.ts';
import { RunLease } from '../../../runtime/engine/run-lease.ts';
import { BackupRepository, findPartition } from '../../../runtime/format/index.ts';
import { createAdapter } from '../../../runtime/storage/factory.ts';
import type { ObjectStore } from '../../../runtime/storage/object-store.ts';
import { need } from '../../env/fixture.ts';
import {
  azureServiceClient,
  createAzureContainer,
  createGcsBucket,
  createS3Bucket,
  deleteAzureContainer,
  deleteGcsBucket,
  deleteS3Bucket,
  gcsClient,
  s3Client,
} from '../../env/storage-clients.ts';
import { commitRun, range, restoredOffsets } from '../../unit/format/runs.ts';

interface Backend {
  readonly store: ObjectStore;
  cleanup(): Promise<void>;
}

async function allObjects(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list('')) out.push(`${info.key}:${info.size}`);
  return out;
}

function retentionOn(name: string, open: () => Promise<Backend>, options: { lease?: boolean } = {}): void {
  describe(`retention on ${name}`, () => {
    let backend: Backend;
    before(async () => {
      backend = await open();
    });
    after(() => backend?.cleanup());

    test('dry run changes nothing; a prune keeps exactly the newest runs, restorable; again is a no-op', async () => {
      const { store } = backend;
      const backup = await new BackupRepository(store).create({ backupId: 'ret' });
      const segments = [];
      for (let i = 0; i < 5; i++) segments.push(await commitRun(backup, `run-${i + 1}`, i * 10, i * 10 + 10));
      const repository = new BackupRepository(store);

      const before = await allObjects(store);
      const dry = await runRetention(
        { repository },
        { backupId: 'ret', policy: { keepLast: 2 }, dryRun: true },
      );
      assert.deepEqual(
        dry.plan.eligible.map((r) => r.runId),
        ['run-1', 'run-2', 'run-3'],
      );
      assert.deepEqual(await allObjects(store), before, 'a dry run writes nothing, not even a lease');

      const pruned = await runRetention({ repository }, { backupId: 'ret', policy: { keepLast: 2 } });
      assert.deepEqual(pruned.prunedRuns, ['run-1', 'run-2', 'run-3']);
      assert.equal(pruned.deletedObjects, 3);
      assert.equal(
        pruned.reclaimedBytes,
        segments
          .slice(0, 3)
          .flat()
          .reduce((n, s) => n + s.size, 0),
      );
      for (const s of segments.slice(0, 3).flat()) assert.equal(await store.head(s.key), undefined);

      const reopened = await new BackupRepository(store).openForWrite('ret');
      const m = await reopened.manifest();
      assert.deepEqual(
        m.runs.map((r) => r.runId),
        ['run-4', 'run-5'],
      );
      const p = findPartition(m, 't', 0);
      assert.equal(p?.nextOffset, 50n);
      assert.deepEqual(
        p?.gaps.map((g) => [g.start, g.end, g.reason]),
        [[0n, 30n, 'pruned']],
      );
      assert.deepEqual(await restoredOffsets(reopened), range(30, 50));

      const after = await allObjects(store);
      const again = await runRetention({ repository }, { backupId: 'ret', policy: { keepLast: 2 } });
      assert.deepEqual([again.prunedRuns, again.deletedObjects], [[], 0]);
      // The lease epoch is rewritten (released) by every pass; everything else is unchanged.
      const withoutLeases = (keys: string[]) => keys.filter((k) => !k.startsWith('ret/leases/'));
      assert.deepEqual(withoutLeases(await allObjects(store)), withoutLeases(after));
    });

    if (options.lease) {
      test('a run holding the backup lease keeps retention out: it refuses with a conflict naming the run', async () => {
        const { store } = backend;
        const backup = await new BackupRepository(store).create({ backupId: 'busy' });
        for (let i = 0; i < 3; i++) await commitRun(backup, `run-${i + 1}`, i * 10, i * 10 + 10);
        const holder = await RunLease.acquire(store, backupLeasePrefix('busy'), {
          subject: 'backup busy',
          ttlMs: 3000,
        });
        try {
          await assert.rejects(
            runRetention(
              { repository: new BackupRepository(store) },
              { backupId: 'busy', policy: { keepLast: 1 } },
            ),
            (e: unknown) => e instanceof RunLeaseConflict && /backup busy is already running/.test(e.message),
          );
        } finally {
          await holder.release();
        }
        const m = await (await new BackupRepository(store).openForWrite('busy')).manifest();
        assert.equal(m.runs.length, 3, 'nothing was pruned');
        const after = await runRetention(
          { repository: new BackupRepository(store) },
          { backupId: 'busy', policy: { keepLast: 1 } },
        );
        assert.deepEqual(after.prunedRuns, ['run-1', 'run-2']);
      });
    }
  });
}

retentionOn(
  'filesystem',
  async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kb-retention-'));
    return {
      store: await createAdapter({ storageType: 'filesystem', filesystem: { path: dir } }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { lease: true },
);

retentionOn(
  's3 (MinIO)',
  async () => {
    const info = need('s3');
    const client = s3Client(info);
    const bucket = await createS3Bucket(client, 'retention');
    return {
      store: await createAdapter(
        {
          storageType: 's3',
          s3: {
            bucket,
            region: info.region,
            endpoint: info.endpoint,
            pathStyle: true,
            allowHttp: true,
            prefix: 'kb',
          },
        },
        { s3: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey } },
        { logger: { warn: () => {} } },
      ),
      cleanup: async () => {
        await deleteS3Bucket(client, bucket);
        client.destroy();
      },
    };
  },
  { lease: true },
);

retentionOn('azure blob (Azurite)', async () => {
  const info = need('azure');
  const container = await createAzureContainer(azureServiceClient(info), 'retention');
  return {
    store: await createAdapter(
      {
        storageType: 'azure',
        azure: {
          accountName: info.accountName,
          container: container.containerName,
          endpoint: info.blobEndpoint,
        },
      },
      { azure: { accountKey: info.accountKey } },
    ),
    cleanup: () => deleteAzureContainer(container),
  };
});

retentionOn('gcs (fake-gcs-server)', async () => {
  const info = need('gcs');
  const bucket = await createGcsBucket(gcsClient(info), 'retention');
  return {
    store: await createAdapter({
      storageType: 'gcs',
      gcs: { bucket: bucket.name, endpoint: info.endpoint, projectId: info.projectId },
    }),
    cleanup: () => deleteGcsBucket(bucket),
  };
});
