import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, kafkaConnection, produce, readPartition } from '../../env/kafka-client.ts';
import { parseJsonOutput, runCli, workspace } from '../cli/cli-helpers.ts';

/**
 * `kafka-backup` as a user runs it: back up with the group snapshot, restore with autoConsumerGroups
 * into the target cluster under another name, then offsets show-mapping, validate and evidence verify.
 */
describe('kafka-backup offsets and validation commands, end to end', { timeout: 300_000 }, () => {
  const kafka = need('kafka');
  const source = kafkaConnection(kafka, 'source');
  const target = kafkaConnection(kafka, 'target');
  const topic = uniqueName('cli-e2e');
  const renamed = `${topic}-dr`;
  const group = uniqueName('cli-e2e-group');
  let ws: Awaited<ReturnType<typeof workspace>>;

  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 2 });
    await produce(
      source,
      topic,
      Array.from({ length: 40 }, (_, i) => ({
        partition: i % 2,
        key: `k${i}`,
        value: `v${i % 2}-${Math.floor(i / 2)}`,
      })),
      { idempotent: true },
    );
    const admin = new PlatformaticKafka({
      bootstrapServers: [kafka.source.bootstrap],
      securityProtocol: 'PLAINTEXT',
    });
    await admin.commitOffsets(group, [
      { topic, partition: 0, offset: 7n },
      { topic, partition: 1, offset: 13n },
    ]);
    await admin.close();
  });

  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, renamed).catch(() => {});
    await ws.cleanup();
  });

  test('restore with autoConsumerGroups resumes the group; show-mapping, validate and evidence verify work', async () => {
    const storage = { storageType: 'filesystem', filesystem: { path: path.join(ws.dir, 'store') } };
    const backupId = uniqueName('cli-e2e-b');
    const backupFile = await ws.writeConfig('backup.yaml', {
      kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
      topics: [topic],
      storage,
      backupId,
      consumerGroupSnapshot: true,
    });
    const backup = await runCli(['backup', '-c', backupFile, '-o', 'json']);
    assert.equal(backup.code, 0, backup.stderr);

    const restoreFile = await ws.writeConfig('restore.yaml', {
      kafkaCluster: { bootstrapServers: [kafka.target.bootstrap] },
      backupRef: { backupId },
      storage,
      topics: [topic],
      topicMapping: { [topic]: renamed },
      createTopics: true,
      autoConsumerGroups: true,
    });
    const restore = await runCli(['restore', '-c', restoreFile, '-o', 'json']);
    assert.equal(restore.code, 0, restore.stderr + restore.stdout);
    const restored = parseJsonOutput(restore) as { restoreId: string; consumerGroups: { status: string } };
    assert.equal(restored.consumerGroups.status, 'completed');

    const admin = new PlatformaticKafka({
      bootstrapServers: [kafka.target.bootstrap],
      securityProtocol: 'PLAINTEXT',
    });
    try {
      const committed = new Map(
        (await admin.committedOffsets(group))
          .filter((o) => o.topic === renamed)
          .map((o) => [o.partition, o.offset]),
      );
      for (const [partition, next] of [
        [0, 7],
        [1, 13],
      ] as const) {
        const [record] = await readPartition(target, renamed, {
          partition,
          fromOffset: committed.get(partition),
          count: 1,
        });
        assert.equal(
          record?.value?.toString(),
          `v${partition}-${next}`,
          `partition ${partition} resumes at its next record`,
        );
      }
      await admin.deleteOffsets(
        group,
        [0, 1].map((partition) => ({ topic: renamed, partition })),
      );
    } finally {
      await admin.close();
    }

    const mapping = await runCli([
      'offsets',
      'show-mapping',
      '-c',
      restoreFile,
      '--restore-id',
      restored.restoreId,
    ]);
    assert.equal(mapping.code, 0, mapping.stderr);
    assert.match(
      mapping.stdout,
      new RegExp(`${topic}/0 -> ${renamed}/0: 20 record\\(s\\) in 1 range\\(s\\)`),
    );

    const keys = generateKeyPairSync('ed25519');
    const keyFile = path.join(ws.dir, 'evidence.key');
    const pubFile = path.join(ws.dir, 'evidence.pub');
    await writeFile(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const validate = await runCli([
      'validate',
      '-c',
      restoreFile,
      '--deep',
      '--cluster-checks',
      '--restore-id',
      restored.restoreId,
      '--signing-key-file',
      keyFile,
      '-o',
      'json',
    ]);
    assert.equal(validate.code, 0, validate.stdout + validate.stderr);
    const report = (
      parseJsonOutput(validate) as {
        result: { report: { reportId: string; checks: { name: string; outcome: string }[] } };
      }
    ).result.report;
    assert.equal(report.checks.find((c) => c.name === 'message-count')?.outcome, 'passed');
    const verify = await runCli([
      'evidence',
      'verify',
      '--public-key',
      pubFile,
      '-c',
      restoreFile,
      '--report-id',
      report.reportId,
    ]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^VERIFIED/);
  });

  test('an unsupported offsetReset strategy is refused before any data moves', async () => {
    const file = await ws.writeConfig('bad-restore.yaml', {
      kafkaCluster: { bootstrapServers: [kafka.target.bootstrap] },
      backupRef: { backupId: 'whatever' },
      storage: { storageType: 'filesystem', filesystem: { path: path.join(ws.dir, 'store') } },
      topics: [topic],
      topicMapping: { [topic]: `${renamed}-never` },
      offsetReset: { enabled: true, consumerGroups: ['g'], strategy: 'cluster-scan' },
    });
    const run = await runCli(['restore', '-c', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /offsetReset.strategy: cluster-scan is not supported: use header-based/);
  });
});
