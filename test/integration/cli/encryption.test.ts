import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { type ConsumedRecord, createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, workspace } from './cli-helpers.ts';

describe('client-side encryption through the CLI', { timeout: 300_000 }, () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('enc');
  let ws: Awaited<ReturnType<typeof workspace>>;
  let original: ConsumedRecord[][];
  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 2 });
    await produceAll(source, topic, fidelityRecords(3000, 2, 9));
    original = await readTopic(source, topic);
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, `${topic}-copy`).catch(() => {});
    await ws.cleanup();
  });

  test('a key from a mounted secret encrypts the backup; restore needs the same key', async () => {
    const key = randomBytes(32).toString('base64');
    await ws.writeSecret('backup-key', 'encryption.key', key);
    const env = { KAFKA_BACKUP_SECRETS_DIR: ws.secretsDir };
    const storage = { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } };
    const encryption = { keySecret: { name: 'backup-key' } };
    const backupConfig = await ws.writeConfig('backup.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage,
      backupId: 'secret',
      encryption,
    });
    const backup = await runCli(['backup', '-c', backupConfig, '-o', 'json'], env);
    assert.equal(backup.code, 0, backup.stderr);
    assert.doesNotMatch(backup.stderr + backup.stdout, new RegExp(key.replace(/[+/=]/g, '.')));
    const described = parseJsonOutput(await runCli(['describe', '-c', backupConfig, '-o', 'json'], env));
    assert.equal(described.encrypted, true);

    const restoreBase = {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      backupRef: { backupId: 'secret' },
      storage,
      topicMapping: { [topic]: `${topic}-copy` },
      createTopics: true,
    };
    const withoutKey = await runCli(['restore', '-c', await ws.writeConfig('nokey.yaml', restoreBase)], env);
    assert.equal(withoutKey.code, 2);
    assert.match(withoutKey.stderr, /encrypted.*supply/);

    const wrongKeyFile = path.join(ws.dir, 'wrong.key');
    await writeFile(wrongKeyFile, randomBytes(32));
    const wrong = await runCli(
      [
        'restore',
        '-c',
        await ws.writeConfig('wrong.yaml', { ...restoreBase, encryption: { keyFile: wrongKeyFile } }),
      ],
      env,
    );
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /key id/);

    const ok = await runCli(
      ['restore', '-c', await ws.writeConfig('ok.yaml', { ...restoreBase, encryption }), '-o', 'json'],
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);
    const copy = await readTopic(target, `${topic}-copy`);
    assert.deepEqual(
      copy.map((p) => p.map((r) => content(r))),
      original.map((p) => p.map((r) => content(r))),
    );
  });
});
