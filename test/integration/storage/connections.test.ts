import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { readStoredState } from '../../../runtime/operator/controllers/backup-storage.ts';
import { need } from '../../env/fixture.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';
import { minioPorts, minioStorage, openMinioStore } from '../operator/operator-env.ts';

const openDescriptors = () => readdirSync('/proc/self/fd').length;

/**
 * The operator reads a KafkaBackup's storage on every reconcile. Each read opens a store whose S3
 * client pools a keep-alive socket: unless the store is closed, that socket and its file
 * descriptor stay until the server drops them, one per reconcile.
 */
describe('storage connections on real S3 (MinIO)', () => {
  const s3 = need('s3');
  const client = s3Client(s3);
  let bucket: string;
  before(async () => {
    bucket = await createS3Bucket(client, 'connections');
  });
  after(async () => {
    await deleteS3Bucket(client, bucket);
    client.destroy();
  });

  const ports = () => minioPorts(s3, 's3-creds');
  const spec = () => ({
    backupId: 'nightly',
    kafkaCluster: { bootstrapServers: ['unused:9092'] },
    topics: ['orders'],
    storage: minioStorage(s3, bucket, 's3-creds'),
  });
  const reads = 40;

  test('reading a backup’s stored state, reconcile after reconcile, leaves no connection open', async () => {
    const p = ports();
    const before = openDescriptors();
    for (let i = 0; i < reads; i++) {
      const state = await readStoredState(spec(), p, { source: 'KafkaBackup ns/nightly', name: 'nightly' });
      assert.equal(state.storedRunCount, 0);
    }
    const grown = openDescriptors() - before;
    assert.ok(grown < 5, `${grown} more file descriptors open after ${reads} reads`);
  });

  test('the same reads without closing each store would keep one socket each (what the test above rules out)', async () => {
    const before = openDescriptors();
    const stores = [];
    for (let i = 0; i < reads; i++) {
      const store = await openMinioStore(s3, bucket, 's3-creds');
      await store.head('nothing-here');
      stores.push(store);
    }
    const grown = openDescriptors() - before;
    for (const store of stores) store.close?.();
    assert.ok(grown >= reads - 2, `only ${grown} more file descriptors for ${reads} unclosed stores`);
  });
});
