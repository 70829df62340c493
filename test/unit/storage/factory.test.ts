import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAdapter, createObjectStore } from '../../../runtime/storage/factory.ts';
import { StorageError } from '../../../runtime/storage/object-store.ts';

const fatal = (pattern: RegExp) => (e: unknown) =>
  e instanceof StorageError && e.kind === 'fatal' && pattern.test(e.message);

describe('storage factory', async () => {
  test('an http:// S3 endpoint is refused unless allowHttp, and then a warning is logged', async () => {
    const s3 = { bucket: 'b', region: 'us-east-1', endpoint: 'http://minio:9000', pathStyle: true };
    await assert.rejects(
      () => createAdapter({ storageType: 's3', s3 }),
      fatal(/plain http.*allowHttp: true/),
    );
    const warnings: string[] = [];
    const store = await createAdapter(
      { storageType: 's3', s3: { ...s3, allowHttp: true } },
      {},
      { logger: { warn: (m) => warnings.push(m) } },
    );
    assert.equal(store.description, 's3://b');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /not encrypted/);
  });

  test('the sub-object of the storageType is required', async () => {
    await assert.rejects(() => createAdapter({ storageType: 'gcs' }), fatal(/storage\.gcs is missing/));
    await assert.rejects(
      () => createAdapter({ storageType: 'filesystem' }),
      fatal(/storage\.filesystem is missing/),
    );
  });

  test('azure: workload identity and a credentials secret are mutually exclusive', async () => {
    await assert.rejects(
      () =>
        createAdapter(
          { storageType: 'azure', azure: { accountName: 'a', container: 'c', useWorkloadIdentity: true } },
          { azure: { accountKey: 'a2V5' } },
        ),
      fatal(/mutually exclusive/),
    );
  });

  test('descriptions carry no credentials', async () => {
    const store = await createObjectStore(
      { storageType: 's3', s3: { bucket: 'b', region: 'r', prefix: '/team/backups/' } },
      { s3: { accessKeyId: 'AKIASECRET', secretAccessKey: 'very-secret' } },
    );
    assert.equal(store.description, 's3://b/team/backups');
    assert.doesNotMatch(store.description, /SECRET|secret/);
  });

  test('gcs refuses service-account JSON that is not JSON, with a hint', async () => {
    await assert.rejects(
      () =>
        createAdapter(
          { storageType: 'gcs', gcs: { bucket: 'b' } },
          { gcs: { serviceAccountJson: '/path/to/key.json' } },
        ),
      fatal(/not valid JSON/),
    );
  });
});
