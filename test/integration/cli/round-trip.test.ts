import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { type ConsumedRecord, createTopic, deleteTopic, listTopics } from '../../env/kafka-client.ts';
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
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, workspace } from './cli-helpers.ts';

/**
 * The CLI end to end: >= 100,000 records over several partitions (null vs empty keys and values,
 * ordered headers with duplicates and nulls, CreateTime and LogAppendTime topics) are backed up from
 * the source cluster and restored into the target cluster, byte for byte and in order, through the
 * filesystem, S3 (MinIO), Azure Blob (Azurite) and GCS (fake-gcs-server).
 */
describe('kafka-backup CLI round trip', { timeout: 600_000 }, () => {
  const kafka = () => need('kafka');
  const source = testConnection('source');
  const target = testConnection('target');
  const createTime = uniqueName('ct');
  const logAppend = uniqueName('lat');
  const created: [typeof source, string][] = [];
  let ws: Awaited<ReturnType<typeof workspace>>;
  let original: Map<string, ConsumedRecord[][]>;

  before(async () => {
    ws = await workspace();
    await createTopic(source, createTime, { partitions: 4 });
    await createTopic(source, logAppend, {
      partitions: 2,
      configs: { 'message.timestamp.type': 'LogAppendTime' },
    });
    created.push([source, createTime], [source, logAppend]);
    await produceAll(source, createTime, fidelityRecords(100_000, 4, 7));
    await produceAll(source, logAppend, fidelityRecords(10_000, 2, 11));
    original = new Map([
      [createTime, await readTopic(source, createTime)],
      [logAppend, await readTopic(source, logAppend)],
    ]);
    assert.equal(original.get(logAppend)?.[0]?.[0]?.timestampType, 'LogAppendTime');
  });

  after(async () => {
    for (const [c, t] of created) await deleteTopic(c, t).catch(() => {});
    await ws.cleanup();
  });

  async function roundTrip(storage: Record<string, unknown>, suffix: string, env: Record<string, string>) {
    const backupConfig = await ws.writeConfig(`backup-${suffix}.yaml`, {
      kafkaCluster: { bootstrapServers: [kafka().source.bootstrap] },
      topics: [createTime, logAppend],
      storage,
      backupId: `rt-${suffix}`,
      segmentMaxBytes: 1024 * 1024,
    });
    const backup = await runCli(['backup', '--config', backupConfig, '--output', 'json'], env);
    assert.equal(backup.code, 0, backup.stderr);
    const b = parseJsonOutput(backup);
    assert.equal(b.records, 110_000, backup.stderr);

    const mapping = { [createTime]: `${createTime}-${suffix}`, [logAppend]: `${logAppend}-${suffix}` };
    const restoreConfig = await ws.writeConfig(`restore-${suffix}.yaml`, {
      kafkaCluster: { bootstrapServers: [kafka().target.bootstrap] },
      backupRef: { backupId: `rt-${suffix}` },
      storage,
      topicMapping: mapping,
      createTopics: true,
    });
    const listed = parseJsonOutput(await runCli(['list', '--config', backupConfig, '--output', 'json'], env));
    assert.ok((listed.backups as { backupId: string }[]).some((x) => x.backupId === `rt-${suffix}`));
    const dry = await runCli(['restore', '--config', restoreConfig, '--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /dry run, nothing written/);
    assert.match(dry.stdout, new RegExp(`${createTime} -> ${createTime}-${suffix} \\(4 partitions\\)`));
    assert.ok(!(await listTopics(target)).includes(`${createTime}-${suffix}`), 'the dry run created nothing');

    const restore = await runCli(['restore', '--config', restoreConfig, '--output', 'json'], env);
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(parseJsonOutput(restore).records, 110_000);
    for (const [from, to] of Object.entries(mapping)) {
      created.push([target, to]);
      const copy = await readTopic(target, to);
      const expected = original.get(from) as ConsumedRecord[][];
      assert.equal(copy.length, expected.length, `${to} partition count`);
      for (let p = 0; p < expected.length; p++) {
        const want = (expected[p] as ConsumedRecord[]).map((r) => content(r));
        const got = (copy[p] as ConsumedRecord[]).map((r) => content(r));
        assert.equal(got.length, want.length, `${to}/${p} record count`);
        assert.deepEqual(got, want, `${to}/${p} content and order`);
      }
    }
    // CreateTime records keep their timestamp type too.
    assert.equal(
      (await readTopic(target, mapping[createTime] as string))[0]?.[0]?.timestampType,
      'CreateTime',
    );
  }

  test('through the filesystem', async () => {
    await roundTrip({ storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } }, 'fs', {});
  });

  test('through S3 (MinIO), credentials from a mounted secret', async () => {
    const s3 = need('s3');
    const client = s3Client(s3);
    const bucket = await createS3Bucket(client, 'cli-rt');
    try {
      await ws.writeSecret('minio-creds', 'AWS_ACCESS_KEY_ID', s3.accessKeyId);
      await ws.writeSecret('minio-creds', 'AWS_SECRET_ACCESS_KEY', s3.secretAccessKey);
      await roundTrip(
        {
          storageType: 's3',
          s3: {
            bucket,
            region: s3.region,
            endpoint: s3.endpoint,
            pathStyle: true,
            allowHttp: true,
            prefix: 'backups',
            credentialsSecret: { name: 'minio-creds' },
          },
        },
        's3',
        { KAFKA_BACKUP_SECRETS_DIR: ws.secretsDir },
      );
    } finally {
      await deleteS3Bucket(client, bucket);
    }
  });

  test('through Azure Blob (Azurite), account key from a mounted secret', async () => {
    const azure = need('azure');
    const container = await createAzureContainer(azureServiceClient(azure), 'cli-rt');
    try {
      await ws.writeSecret('azure-key', 'AZURE_STORAGE_KEY', azure.accountKey);
      await roundTrip(
        {
          storageType: 'azure',
          azure: {
            container: container.containerName,
            accountName: azure.accountName,
            endpoint: azure.blobEndpoint,
            prefix: 'backups',
            credentialsSecret: { name: 'azure-key' },
          },
        },
        'az',
        { KAFKA_BACKUP_SECRETS_DIR: ws.secretsDir },
      );
    } finally {
      await deleteAzureContainer(container);
    }
  });

  test('through GCS (fake-gcs-server)', async () => {
    const gcs = need('gcs');
    const bucket = await createGcsBucket(gcsClient(gcs), 'cli-rt');
    try {
      await roundTrip(
        { storageType: 'gcs', gcs: { bucket: bucket.name, endpoint: gcs.endpoint, prefix: 'b' } },
        'gcs',
        {},
      );
    } finally {
      await deleteGcsBucket(bucket);
    }
  });
});
