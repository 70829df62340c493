import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { runEvidenceVerify } from '../../../runtime/evidence/commands.ts';
import { BackupRepository } from '../../../runtime/format/repository.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { S3ObjectStore } from '../../../runtime/storage/s3.ts';
import { runValidate } from '../../../runtime/validation/commands.ts';
import {
  type SourceWatermarksDocument,
  sourceWatermarksDocumentName,
} from '../../../runtime/validation/source-watermarks.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import {
  createTopic,
  deleteTopic,
  kafkaConnection,
  listTopics,
  produce,
  produceTransactions,
} from '../../env/kafka-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';

/**
 * Validation against real components: a backup taken from the source cluster into MinIO, validated
 * deep, with a full restore into a scratch topic on the target cluster, and a signed evidence report
 * stored next to it, announced to a webhook and verified.
 */
const kafka = need('kafka');
const s3 = need('s3');
const source = kafkaConnection(kafka, 'source');
const target = kafkaConnection(kafka, 'target');
const client = s3Client(s3);
const keys = generateKeyPairSync('ed25519');
const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

let bucket: string;
let topic: string;
let store: S3ObjectStore;
let repository: BackupRepository;
let webhook: Server;
let webhookUrl: string;
const received: unknown[] = [];

before(async () => {
  bucket = await createS3Bucket(client, 'validation');
  store = new S3ObjectStore({
    bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    pathStyle: true,
    allowHttp: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  repository = new BackupRepository(store);
  topic = uniqueName('validated');
  await createTopic(source, topic, { partitions: 2 });
  const records = [];
  for (let i = 0; i < 400; i++) {
    records.push({
      partition: i % 2,
      key: i % 10 === 0 ? null : i % 10 === 1 ? '' : `key-${i}`,
      value: i % 13 === 0 ? null : `value-${i}`,
      headers: [
        ['h', `a${i}`],
        ['h', null],
        ['other', ''],
      ] as const,
      timestamp: 1_700_000_000_000n + BigInt(i),
    });
  }
  await produce(source, topic, records, { idempotent: true });
  // A group with committed offsets, so the backup carries a consumer-group snapshot.
  const admin = new PlatformaticKafka({
    bootstrapServers: [kafka.source.bootstrap],
    securityProtocol: 'PLAINTEXT',
  });
  await admin.commitOffsets(uniqueName('reader'), [
    { topic, partition: 0, offset: 50n },
    { topic, partition: 1, offset: 120n },
  ]);
  await admin.close();

  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
});

after(async () => {
  webhook?.close();
  if (topic) await deleteTopic(source, topic).catch(() => {});
  if (bucket) await deleteS3Bucket(client, bucket);
});

async function backupOnce(backupId: string, topicName = topic): Promise<void> {
  const port = new PlatformaticKafka({
    bootstrapServers: [kafka.source.bootstrap],
    securityProtocol: 'PLAINTEXT',
  });
  try {
    await runBackup(
      { kafka: port, repository },
      { backupId, topics: { include: [topicName] }, consumerGroupSnapshot: true, segmentMaxBytes: 4096 },
    );
  } finally {
    await port.close();
  }
}

async function validate(backupId: string, extra: Partial<Parameters<typeof runValidate>[0]> = {}) {
  const scratch = new PlatformaticKafka({
    bootstrapServers: [kafka.target.bootstrap],
    securityProtocol: 'PLAINTEXT',
  });
  try {
    return await runValidate(
      {
        backupId,
        deep: true,
        restoreSample: 'all',
        scratchTopicPrefix: 'kb-validation-it',
        signingKey: { pem: privatePem },
        toolVersion: 'test',
        triggeredBy: 'integration test',
        ...extra,
      },
      {
        repository,
        kafka: scratch,
        bootstrapServers: kafka.target.bootstrap,
        secrets: [s3.secretAccessKey, s3.accessKeyId],
      },
    );
  } finally {
    await scratch.close();
  }
}

describe('backup validation with signed evidence', () => {
  test('a healthy backup passes deep validation with a byte-for-byte restore, and its signed report verifies', async () => {
    const backupId = uniqueName('healthy');
    await backupOnce(backupId);
    const result = await validate(backupId, { webhookUrl });
    const outcomes = Object.fromEntries(result.report.checks.map((c) => [c.name, c.outcome]));
    assert.equal(result.failure, undefined, result.text);
    assert.equal(outcomes['segment-integrity'], 'passed');
    assert.equal(outcomes['record-counts'], 'passed');
    assert.equal(outcomes['offset-continuity'], 'passed');
    assert.equal(outcomes['consumer-group-snapshot'], 'passed');
    assert.equal(outcomes['restore-sample'], 'passed');
    assert.equal(outcomes['source-watermarks'], 'passed');
    const restore = result.report.checks.find((c) => c.name === 'restore-sample');
    assert.equal(restore?.details?.recordsIdentical, 400);
    assert.ok(
      !(await listTopics(target)).some((t) => t.startsWith('kb-validation-it')),
      'the scratch topic is deleted',
    );

    // Stored under the predictable keys, announced, and verifiable from storage with the public key.
    assert.equal(result.keys?.json, `evidence/${backupId}/${result.report.reportId}/report.json`);
    assert.deepEqual(
      received.map((r) => (r as { reportId: string; result: string }).result),
      ['passed'],
    );
    const verified = await runEvidenceVerify(
      {
        location: { kind: 'storage', backupId, reportId: result.report.reportId },
        publicKey: { pem: publicPem },
      },
      { store },
    );
    assert.equal(verified.failure, undefined, verified.text);

    // No secret of the storage reached any stored artefact.
    for (const key of Object.values(result.keys ?? {})) {
      const text = new TextDecoder().decode(await store.get(key));
      assert.ok(!text.includes(s3.secretAccessKey), `${key} contains the S3 secret key`);
      assert.ok(!text.includes(s3.accessKeyId), `${key} contains the S3 access key id`);
    }
  });

  test('a corrupted backup fails validation with the failing check named', async () => {
    const backupId = uniqueName('corrupt');
    await backupOnce(backupId);
    const manifest = await (await repository.open(backupId)).manifest();
    const victim = manifest.topics[0]?.partitions[1]?.segments[0]?.key as string;
    const bytes = Uint8Array.from(await store.get(victim));
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] as number) ^ 0x40;
    await store.put(victim, bytes);

    const result = await validate(backupId, { restoreSample: 1 });
    assert.equal(result.failure, 'checks-failed');
    assert.equal(result.report.summary.result, 'failed');
    const integrity = result.report.checks.find((c) => c.name === 'segment-integrity');
    assert.equal(integrity?.outcome, 'failed');
    assert.ok(integrity?.summary.includes(victim), integrity?.summary);
    assert.match(result.text, /\[FAIL\] segment-integrity/);
  });

  test('source-watermarks: the engine stores what it captured; a source that had more records than the backup fails', async () => {
    const backupId = uniqueName('watermarks');
    await backupOnce(backupId);
    const backup = await repository.openForWrite(backupId);
    const runId = (await backup.manifest()).runs[0]?.runId as string;
    const name = sourceWatermarksDocumentName(runId);
    const stored = await backup.getDocument<SourceWatermarksDocument>(name);
    assert.ok(stored, `the backup run stored ${name}`);
    assert.equal(stored.runId, runId);
    assert.deepEqual(
      stored.partitions.map((p) => [p.topic, p.partition, p.logStartOffset, p.endOffset]),
      [
        [topic, 0, '0', '200'],
        [topic, 1, '0', '200'],
      ],
    );
    const healthy = await validate(backupId, { deep: false, restoreSample: 1 });
    const check = (r: typeof healthy) => r.report.checks.find((c) => c.name === 'source-watermarks');
    assert.equal(check(healthy)?.outcome, 'passed', check(healthy)?.summary);

    // The source had 7 records on partition 1 that the backup does not hold (as if the run had
    // stopped early): the document says what the source had, the backup covers up to offset 200.
    await backup.putDocument(name, {
      ...stored,
      partitions: stored.partitions.map((p) => (p.partition === 1 ? { ...p, endOffset: '207' } : p)),
    });
    const short = await validate(backupId, { deep: false, restoreSample: 1 });
    assert.equal(short.failure, 'checks-failed', short.text);
    assert.equal(check(short)?.outcome, 'failed');
    assert.match(check(short)?.summary ?? '', new RegExp(`${topic}/1 from 200`));
    const findings = check(short)?.details?.findings as { partition: number; missing: unknown }[];
    assert.deepEqual(
      findings.map((f) => [f.partition, f.missing]),
      [[1, [{ start: '200', end: '207' }]]],
    );
    assert.match(short.text, /\[FAIL\] source-watermarks/);
    // Everything the backup itself holds is still consistent: only the comparison with the source fails.
    assert.equal(short.report.checks.find((c) => c.name === 'record-counts')?.outcome, 'passed');
  });

  test('a tampered report or HTML fails verification', async () => {
    const backupId = uniqueName('tamper');
    await backupOnce(backupId);
    const result = await validate(backupId, { restoreSample: 1 });
    const reportKeys = result.keys as { json: string; html: string };
    const location = { kind: 'storage' as const, backupId, reportId: result.report.reportId };

    const original = await store.get(reportKeys.json);
    const forged = new TextEncoder().encode(
      new TextDecoder().decode(original).replace('"passed"', '"failed"'),
    );
    await store.put(reportKeys.json, forged);
    const v1 = await runEvidenceVerify({ location, publicKey: { pem: publicPem } }, { store });
    assert.equal(v1.failure, 'signature-invalid');
    assert.match(v1.text, /NOT VERIFIED/);

    await store.put(reportKeys.json, original);
    const html = await store.get(reportKeys.html);
    await store.put(reportKeys.html, new TextEncoder().encode(`${new TextDecoder().decode(html)}<!-- -->`));
    const v2 = await runEvidenceVerify({ location, publicKey: { pem: publicPem } }, { store });
    assert.equal(v2.failure, 'signature-invalid');
    assert.match(v2.text, /HTML report was altered/);
  });

  test('a transactional topic validates deep: markers and aborted records are explained gaps, not holes', async () => {
    const txTopic = uniqueName('tx');
    await createTopic(source, txTopic, { partitions: 1 });
    try {
      const batch = (n: number, tag: string) =>
        Array.from({ length: n }, (_, i) => ({ partition: 0, key: `${tag}-${i}`, value: `${tag}-${i}` }));
      await produceTransactions(source, txTopic, [
        { records: batch(5, 'a'), outcome: 'commit' },
        { records: batch(3, 'b'), outcome: 'abort' },
        { records: batch(4, 'c'), outcome: 'commit' },
      ]);
      const backupId = uniqueName('tx');
      await backupOnce(backupId, txTopic);
      const result = await validate(backupId, { restoreSample: 'all' });
      const continuity = result.report.checks.find((c) => c.name === 'offset-continuity');
      assert.equal(continuity?.outcome, 'passed', continuity?.summary);
      const explained = continuity?.details?.explainedOffsets as Record<string, string>;
      // 3 commit/abort markers + 3 aborted records.
      assert.equal(explained['transaction-markers'], '6');
      assert.equal(result.report.checks.find((c) => c.name === 'record-counts')?.outcome, 'passed');
      assert.equal(
        result.report.checks.find((c) => c.name === 'restore-sample')?.details?.recordsIdentical,
        9,
      );
    } finally {
      await deleteTopic(source, txTopic).catch(() => {});
    }
  });
});
