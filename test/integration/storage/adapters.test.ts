import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAdapter } from '../../../runtime/storage/factory.ts';
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
import { objectStoreConformance } from './conformance.ts';

const quiet = { warn: () => {} };

objectStoreConformance('filesystem', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kb-fs-store-'));
  return {
    open: (prefix) =>
      createAdapter({ storageType: 'filesystem', filesystem: { path: path.join(dir, prefix) } }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

objectStoreConformance('s3 (MinIO)', async () => {
  const info = need('s3');
  const client = s3Client(info);
  const bucket = await createS3Bucket(client, 'conformance');
  return {
    open: (prefix) =>
      createAdapter(
        {
          storageType: 's3',
          s3: {
            bucket,
            region: info.region,
            endpoint: info.endpoint,
            pathStyle: true,
            allowHttp: true,
            prefix,
          },
        },
        { s3: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey } },
        { logger: quiet },
      ),
    cleanup: async () => {
      await deleteS3Bucket(client, bucket);
      client.destroy();
    },
  };
});

objectStoreConformance('azure blob (Azurite)', async () => {
  const info = need('azure');
  const container = await createAzureContainer(azureServiceClient(info), 'conformance');
  return {
    open: (prefix) =>
      createAdapter(
        {
          storageType: 'azure',
          azure: {
            accountName: info.accountName,
            container: container.containerName,
            endpoint: info.blobEndpoint,
            prefix,
          },
        },
        { azure: { accountKey: info.accountKey } },
      ),
    cleanup: () => deleteAzureContainer(container),
  };
});

objectStoreConformance('gcs (fake-gcs-server)', async () => {
  const info = need('gcs');
  const bucket = await createGcsBucket(gcsClient(info), 'conformance');
  return {
    open: (prefix) =>
      createAdapter({
        storageType: 'gcs',
        gcs: { bucket: bucket.name, endpoint: info.endpoint, projectId: info.projectId, prefix },
      }),
    cleanup: () => deleteGcsBucket(bucket),
  };
});
