import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadBackupConfig, loadRestoreConfig } from '../../../runtime/config/load.ts';
import { ConfigError } from '../../../runtime/config/reader.ts';
import { createLogger } from '../../../runtime/log.ts';

describe('configuration files', () => {
  let dir: string;
  const write = async (name: string, doc: unknown) => {
    const file = path.join(dir, name);
    await writeFile(file, stringify(doc));
    return file;
  };
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'config-test-'));
    await mkdir(path.join(dir, 'secrets', 'kafka-user'), { recursive: true });
    await writeFile(path.join(dir, 'secrets', 'kafka-user', 'username'), 'alice\n');
    await writeFile(path.join(dir, 'secrets', 'kafka-user', 'password'), 's3cr3t-pass\n');
    await writeFile(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n');
    process.env.KAFKA_BACKUP_SECRETS_DIR = path.join(dir, 'secrets');
  });
  after(async () => {
    delete process.env.KAFKA_BACKUP_SECRETS_DIR;
    await rm(dir, { recursive: true, force: true });
  });

  test('a KafkaBackup resource is a backup config; SASL credentials come from the mounted secret', async () => {
    const file = await write('kb.yaml', {
      apiVersion: 'kafka.oso.sh/v1alpha1',
      kind: 'KafkaBackup',
      metadata: { name: 'nightly' },
      spec: {
        kafkaCluster: {
          bootstrapServers: ['broker:9093'],
          securityProtocol: 'SASL_SSL',
          saslSecret: { name: 'kafka-user', mechanism: 'SCRAM-SHA-512' },
          tls: { caFile: path.join(dir, 'ca.pem') },
          connection: { connectionsPerBroker: 2 },
        },
        topics: ['orders-*'],
        excludeTopics: ['orders-tmp'],
        storage: { storageType: 's3', s3: { bucket: 'b', region: 'eu-west-1' } },
        stopAtCurrentOffsets: true,
        schedule: '0 0 * * *',
        rateLimiting: { recordsPerSec: 100, maxConcurrentPartitions: 2 },
        sourceClusterId: 'eu-prod',
      },
    });
    const config = await loadBackupConfig(file);
    assert.equal(config.options.backupId, 'nightly');
    // Recorded in the backup's descriptor (backup.json labels) when it is created.
    assert.deepEqual(config.options.labels, { sourceClusterId: 'eu-prod' });
    assert.deepEqual(config.kafka.sasl, {
      mechanism: 'SCRAM-SHA-512',
      username: 'alice',
      password: 's3cr3t-pass',
    });
    assert.match(config.kafka.tls?.ca ?? '', /BEGIN CERTIFICATE/);
    assert.equal(config.kafka.connection?.connectionsPerBroker, 2);
    assert.deepEqual(config.options.topics, {
      include: ['orders-*'],
      exclude: ['orders-tmp'],
      includeInternal: false,
    });
    assert.equal(config.options.maxConcurrentPartitions, 2);
    assert.deepEqual(config.options.rateLimits, { recordsPerSec: 100 });
  });

  test('inline secrets, unknown fields and contradictions are all reported at once', async () => {
    const file = await write('bad.yaml', {
      kafkaCluster: {
        bootstrapServers: ['b:9092'],
        securityProtocol: 'SASL_PLAINTEXT',
        sasl: { mechanism: 'PLAIN', username: 'u', password: 'inline' },
      },
      topics: ['t'],
      storage: { storageType: 'filesystem', filesystem: { path: '/tmp/x' } },
      continuous: true,
      stopAtCurrentOffsets: true,
      compresion: 'zstd',
    });
    try {
      await loadBackupConfig(file);
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const text = error.problems.join('\n');
      assert.match(
        text,
        /kafkaCluster\.sasl\.password: inline secrets are not accepted; use passwordFile or passwordEnv/,
      );
      assert.match(text, /compresion: unknown field/);
      assert.match(text, /continuous and stopAtCurrentOffsets exclude each other/);
      assert.doesNotMatch(error.message, /inline"/);
    }
  });

  test('includeOffsetHeaders: true (the default) is fine; false is refused with why', async () => {
    const spec = {
      kafkaCluster: { bootstrapServers: ['b:9092'] },
      topics: ['t'],
      storage: { storageType: 'filesystem', filesystem: { path: '/tmp/x' } },
    };
    await loadBackupConfig(await write('ioh-true.yaml', { ...spec, includeOffsetHeaders: true }));
    await assert.rejects(
      loadBackupConfig(await write('ioh-false.yaml', { ...spec, includeOffsetHeaders: false })),
      (error: unknown) =>
        error instanceof ConfigError &&
        /includeOffsetHeaders: false is not supported: every backup records the original offsets/.test(
          error.problems.join('\n'),
        ),
    );
  });

  test('fields removed from the API are refused with the reason, never ignored', async () => {
    const spec = {
      kafkaCluster: { bootstrapServers: ['b:9092'] },
      topics: ['t'],
      storage: { storageType: 'filesystem', filesystem: { path: '/tmp/x' } },
    };
    const refused = async (name: string, extra: Record<string, unknown>, reason: RegExp) =>
      assert.rejects(
        loadBackupConfig(await write(`${name}.yaml`, { ...spec, ...extra })),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          const text = error.problems.join('\n');
          assert.match(text, /was removed from the API: /);
          assert.match(text, reason);
          return true;
        },
      );
    await refused(
      'keepalive',
      { kafkaCluster: { ...spec.kafkaCluster, connection: { keepaliveIntervalSecs: 20 } } },
      /kafkaCluster\.connection\.keepaliveIntervalSecs.*keepaliveTimeSecs/,
    );
    await refused(
      'checkpoint',
      { checkpoint: { storage: { pvcName: 'cp' } } },
      /checkpoint\.storage.*commits/,
    );
    // What still works is read as before.
    await loadBackupConfig(
      await write('kept.yaml', {
        ...spec,
        kafkaCluster: { ...spec.kafkaCluster, connection: { tcpKeepalive: true, keepaliveTimeSecs: 30 } },
        checkpoint: { intervalSecs: 5 },
        metrics: { enabled: false },
      }),
    );
    await assert.rejects(
      loadRestoreConfig(
        await write('snapshot-storage.yaml', {
          kafkaCluster: { bootstrapServers: ['target:9092'] },
          storage: { storageType: 'filesystem', filesystem: { path: '/tmp/x' } },
          rollback: { snapshotStorage: { pvcName: 'v' } },
        }),
      ),
      (error: unknown) =>
        error instanceof ConfigError &&
        /rollback\.snapshotStorage: was removed/.test(error.problems.join('\n')),
    );
  });

  test('a restore config: pitr times, mapping, repartitioning, produce settings', async () => {
    const file = await write('kr.yaml', {
      kafkaCluster: { bootstrapServers: ['target:9092'] },
      backupRef: { name: 'nightly', backupId: 'nightly' },
      storage: { storageType: 'filesystem', filesystem: { path: '/tmp/x' } },
      pitr: { startTime: '2026-01-01T00:00:00Z', endTimestamp: 1767229200000 },
      topicMapping: { orders: 'orders-restored' },
      partitionMapping: { 0: 1 },
      repartitioning: { 'orders-restored': { strategy: 'automatic', targetPartitions: 6 } },
      produceAcks: 1,
      produceBatchSize: 500,
      produceTimeoutMs: 10000,
      purgeTopics: false,
      createTopics: true,
    });
    const config = await loadRestoreConfig(file);
    assert.deepEqual(config.options.bounds, { startTime: 1767225600000n, endTime: 1767229200000n });
    assert.deepEqual(config.options.repartitioning, {
      'orders-restored': { strategy: 'round-robin', targetPartitions: 6 },
    });
    assert.deepEqual(config.options.partitionMapping, { 0: 1 });
    assert.equal(config.produceAcks, 1);
    assert.equal(config.produceTimeoutMs, 10000);
    assert.equal(config.options.produceBatchSize, 500);
    assert.equal(config.options.backupId, 'nightly');
  });

  test('a missing secret file names the field and the path', async () => {
    const file = await write('missing.yaml', {
      kafkaCluster: {
        bootstrapServers: ['b:9092'],
        securityProtocol: 'SASL_PLAINTEXT',
        saslSecret: { name: 'absent', mechanism: 'PLAIN' },
      },
      topics: ['t'],
      storage: { storageType: 'filesystem', filesystem: { path: '/tmp/x' } },
    });
    await assert.rejects(
      () => loadBackupConfig(file),
      /SASL (username|password): cannot read secret absent key/,
    );
  });
});

describe('logger', () => {
  test('redacts secret-looking fields and registered secret values', async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.info('connecting', { password: 'hunter2', user: 'alice', detail: 'with s3cr3t-pass inside' });
    assert.match(lines[0] as string, /"password":"\[redacted\]"/);
    assert.doesNotMatch(lines[0] as string, /hunter2/);
    // s3cr3t-pass was registered when the config test above read it from a secret file.
    assert.doesNotMatch(lines[0] as string, /s3cr3t-pass/);
  });
});
