import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { producerPerf, writePayloadFile } from '../../../bench/lib/kafka-tools.ts';
import { need, testEnv, uniqueName } from '../../env/fixture.ts';
import type { ConsumedRecord } from '../../env/kafka-client.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, type Workspace, workspace, writeSourceSaslSecrets } from './cli-helpers.ts';

/**
 * The bundled CLI reads its fetches into memory it reuses (runtime/kafka/read-buffers.ts), over
 * plain TCP and over TLS: a backup must reuse it, and what it stored must restore byte for byte.
 */
describe('backup reads its fetches into recycled memory, and every byte arrives', {
  timeout: 600_000,
}, () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('reads');
  const FIDELITY = 30_000;
  const BULK = 40_960;
  const restored: string[] = [];
  let ws: Workspace;
  let original: ConsumedRecord[][];

  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 3 });
    // Records of every shape, then 40 MiB more: many fetches, each of several slabs.
    await produceAll(source, topic, fidelityRecords(FIDELITY, 3, 5));
    const payload = join(ws.dir, 'payload.txt');
    writePayloadFile(payload, 1024);
    await producerPerf(testEnv(), topic, BULK, payload, 1024);
    original = await readTopic(source, topic);
    await writeSourceSaslSecrets(ws, 'backup-user');
  });

  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    for (const t of restored) await deleteTopic(target, t).catch(() => {});
    await ws.cleanup();
  });

  const clusters = () => ({
    PLAINTEXT: { bootstrapServers: [need('kafka').source.bootstrap] },
    SASL_SSL: {
      bootstrapServers: [need('kafka').source.saslSsl.bootstrap],
      securityProtocol: 'SASL_SSL',
      caSecret: { name: 'kafka-ca' },
      saslSecret: { name: 'backup-user', mechanism: 'SCRAM-SHA-512' },
    },
  });

  for (const protocol of ['PLAINTEXT', 'SASL_SSL'] as const) {
    test(`over ${protocol}`, async () => {
      const env = { KAFKA_BACKUP_SECRETS_DIR: ws.secretsDir };
      const storage = { storageType: 'filesystem', filesystem: { path: join(ws.dir, `store-${protocol}`) } };
      const backupConfig = await ws.writeConfig(`backup-${protocol}.yaml`, {
        kafkaCluster: clusters()[protocol],
        topics: [topic],
        storage,
        backupId: 'reads',
        segmentMaxBytes: 4 * 1024 * 1024,
      });
      const backup = await runCli(
        ['backup', '--config', backupConfig, '--output', 'json', '--log-level', 'debug'],
        env,
      );
      assert.equal(backup.code, 0, backup.stderr.slice(-3000));
      assert.equal(parseJsonOutput(backup).records, FIDELITY + BULK);
      assert.doesNotMatch(backup.stderr, /failed its checksum/);
      const line = backup.stderr
        .split('\n')
        .find((l) => l.includes('"fetch connections read into recycled memory"'));
      assert.ok(line, 'the backup says how it used its read memory');
      const reads = JSON.parse(line) as {
        allocated: number;
        reused: number;
        untracked: number;
        bytesRead: number;
      };
      assert.equal(reads.untracked, 0, line);
      assert.ok(reads.bytesRead > 40 * 1024 * 1024, line);
      // 40+ MiB read through slabs of 1 MiB, about three fetches of 4 MiB in flight at once: most
      // of the slabs read into were ones used before.
      assert.ok(reads.reused > reads.allocated, line);

      const to = `${topic}-${protocol.toLowerCase().replace('_', '-')}`;
      restored.push(to);
      const restoreConfig = await ws.writeConfig(`restore-${protocol}.yaml`, {
        kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
        backupRef: { backupId: 'reads' },
        storage,
        topicMapping: { [topic]: to },
        createTopics: true,
      });
      const restore = await runCli(['restore', '--config', restoreConfig, '--output', 'json'], env);
      assert.equal(restore.code, 0, restore.stderr.slice(-3000));
      const copy = await readTopic(target, to);
      assert.equal(copy.length, original.length);
      for (let p = 0; p < original.length; p++) {
        const want = (original[p] as ConsumedRecord[]).map((r) => content(r));
        const got = (copy[p] as ConsumedRecord[]).map((r) => content(r));
        assert.equal(got.length, want.length, `${to}/${p} record count`);
        assert.deepEqual(got, want, `${to}/${p} content and order`);
      }
    });
  }
});
