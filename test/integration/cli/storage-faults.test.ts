import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client, ToxiproxyClient } from '../../env/storage-clients.ts';
import { fidelityRecords, produceAll, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, workspace } from './cli-helpers.ts';

/** S3 reached through toxiproxy: added latency, then connection resets, then recovery. */
describe('storage faults (S3 through toxiproxy)', { timeout: 600_000 }, () => {
  const source = testConnection('source');
  const topic = uniqueName('faults');
  const proxyName = uniqueName('s3');
  let ws: Awaited<ReturnType<typeof workspace>>;
  let bucket: string;
  let toxiproxy: ToxiproxyClient;
  let endpoint: string;

  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 2 });
    await produceAll(source, topic, fidelityRecords(20_000, 2, 4));
    bucket = await createS3Bucket(s3Client(need('s3')), 'faults');
    toxiproxy = new ToxiproxyClient(need('toxiproxy').apiUrl);
    const proxy = await toxiproxy.createProxy(proxyName, new URL(need('s3').endpoint).host);
    endpoint = `http://${proxy.listen}`;
  });
  after(async () => {
    await toxiproxy.deleteProxy(proxyName).catch(() => {});
    await deleteS3Bucket(s3Client(need('s3')), bucket).catch(() => {});
    await deleteTopic(source, topic).catch(() => {});
    await ws.cleanup();
  });

  test('latency: the backup completes; resets: it fails with exit 5, then resumes to exactly every record', async () => {
    const s3 = need('s3');
    const env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
    const config = (backupId: string) =>
      ws.writeConfig(`${backupId}.yaml`, {
        kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
        topics: [topic],
        storage: {
          storageType: 's3',
          s3: { bucket, region: s3.region, endpoint, pathStyle: true, allowHttp: true },
        },
        backupId,
        segmentMaxBytes: 64 * 1024,
        checkpoint: { intervalSecs: 1 },
      });

    await toxiproxy.addLatency(proxyName, 'slow', 40, { jitterMs: 20 });
    const slow = await runCli(['backup', '-c', await config('slow'), '-o', 'json'], env);
    await toxiproxy.removeToxic(proxyName, 'slow');
    assert.equal(slow.code, 0, slow.stderr);
    assert.equal(parseJsonOutput(slow).records, 20_000);

    const resetConfig = await config('reset');
    await toxiproxy.addResetPeer(proxyName, 'reset', { timeoutMs: 0 });
    const failed = await runCli(['backup', '-c', resetConfig, '-o', 'json'], env);
    await toxiproxy.removeToxic(proxyName, 'reset');
    assert.equal(failed.code, 5, `a storage failure exits 5:\n${failed.stdout}\n${failed.stderr}`);
    assert.equal(parseJsonOutput(failed).ok, false);

    const resumed = await runCli(['backup', '-c', resetConfig, '-o', 'json'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const described = parseJsonOutput(await runCli(['describe', '-c', resetConfig, '-o', 'json'], env));
    assert.equal((described.topics as { records: number }[])[0]?.records, 20_000);
    const verify = await runCli(['verify', '-c', resetConfig, '--deep'], env);
    assert.equal(verify.code, 0, verify.stdout);
  });
});
