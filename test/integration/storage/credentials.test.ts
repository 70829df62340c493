import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type ContainerClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { createAdapter } from '../../../runtime/storage/factory.ts';
import { StorageError } from '../../../runtime/storage/object-store.ts';
import { need } from '../../env/fixture.ts';
import {
  azureServiceClient,
  createAzureContainer,
  createS3Bucket,
  deleteAzureContainer,
  deleteS3Bucket,
  s3Client,
} from '../../env/storage-clients.ts';

const quiet = { warn: () => {} };
const denied = (e: unknown) => e instanceof StorageError && e.kind === 'access-denied';

describe('S3 credentials (MinIO)', () => {
  const info = need('s3');
  let client: S3Client;
  let bucket: string;
  before(async () => {
    client = s3Client(info);
    bucket = await createS3Bucket(client, 'creds');
  });
  after(async () => {
    await deleteS3Bucket(client, bucket);
    client.destroy();
  });
  const config = {
    bucket: '',
    region: info.region,
    endpoint: info.endpoint,
    pathStyle: true,
    allowHttp: true,
  };

  test('without static keys the default chain is used (here: AWS_* environment variables)', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = info.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = info.secretAccessKey;
    try {
      const store = await createAdapter(
        { storageType: 's3', s3: { ...config, bucket } },
        {},
        { logger: quiet },
      );
      await store.put('default-chain', Buffer.from('ok'));
      assert.equal(Buffer.from(await store.get('default-chain')).toString(), 'ok');
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  test('a wrong secret is access-denied, and the error carries no secret', async () => {
    const store = await createAdapter(
      { storageType: 's3', s3: { ...config, bucket } },
      { s3: { accessKeyId: info.accessKeyId, secretAccessKey: 'wrong-secret-value' } },
      { logger: quiet },
    );
    await assert.rejects(
      store.put('x', Buffer.from('x')),
      (e: unknown) => denied(e) && !/wrong-secret-value/.test(String(e)),
    );
  });
});

describe('Azure credentials (Azurite)', () => {
  const info = need('azure');
  let container: ContainerClient;
  before(async () => {
    container = await createAzureContainer(azureServiceClient(info), 'creds');
  });
  after(async () => {
    await deleteAzureContainer(container);
  });
  const base = () => ({
    storageType: 'azure' as const,
    azure: { accountName: info.accountName, container: container.containerName, endpoint: info.blobEndpoint },
  });

  test('a SAS token', async () => {
    const sas = generateBlobSASQueryParameters(
      {
        containerName: container.containerName,
        permissions: ContainerSASPermissions.parse('racwdl'),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      new StorageSharedKeyCredential(info.accountName, info.accountKey),
    ).toString();
    const store = await createAdapter(base(), { azure: { sasToken: sas } });
    await store.put('sas/x', Buffer.from('via sas'));
    assert.equal(Buffer.from(await store.get('sas/x')).toString(), 'via sas');
    const listed = [];
    for await (const o of store.list('sas/')) listed.push(o.key);
    assert.deepEqual(listed, ['sas/x']);
  });

  test('a connection string', async () => {
    const store = await createAdapter(base(), { azure: { connectionString: info.connectionString } });
    await store.put('cs/x', Buffer.from('via connection string'));
    assert.equal((await store.head('cs/x'))?.size, 21);
  });

  test('a wrong account key is access-denied', async () => {
    const store = await createAdapter(base(), {
      azure: { accountKey: Buffer.from('not the key').toString('base64') },
    });
    await assert.rejects(store.put('bad/x', Buffer.from('x')), denied);
  });
});
