import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  backupConfigFromSpec,
  restoreConfigFromSpec,
  specOf,
  storageConfigFromSpec,
} from '../../../runtime/config/load.ts';
import {
  offsetResetConfigFromSpec,
  offsetRollbackConfigFromSpec,
  specValuesOf,
  validationConfigFromSpec,
} from '../../../runtime/config/operations.ts';
import { ConfigError } from '../../../runtime/config/reader.ts';
import { mapSecrets, storage } from './memory-ports.ts';

const context = { source: 'KafkaBackup prod/nightly', name: 'nightly' };
const key32 = Buffer.alloc(32, 7).toString('base64');
const secrets = () =>
  mapSecrets({
    'kafka-user/username': 'alice',
    'kafka-user/password': 'pw',
    'backup-key/encryption.key': key32,
    'signer/signing-key.pem': '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n',
    'ca/ca.crt': '-----BEGIN CERTIFICATE-----\nc\n-----END CERTIFICATE-----\n',
  });
const cluster = {
  bootstrapServers: ['b:9093'],
  securityProtocol: 'SASL_SSL',
  saslSecret: { name: 'kafka-user', mechanism: 'SCRAM-SHA-512' },
  caSecret: { name: 'ca' },
};

async function problemsOf(run: Promise<unknown>): Promise<string> {
  const error = await run.then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigError, String(error));
  return error.problems.join('\n');
}

describe('configuration from spec objects', () => {
  test('a KafkaBackup spec: every secret read through the resolver, the resource name is the default backup id', async () => {
    const resolver = secrets();
    const config = await backupConfigFromSpec(
      {
        kafkaCluster: cluster,
        topics: ['orders-*'],
        storage,
        encryption: { keySecret: { name: 'backup-key' } },
        segmentMaxBytes: 4096,
      },
      resolver,
      context,
    );
    assert.equal(config.options.backupId, 'nightly');
    assert.deepEqual(config.kafka.sasl, { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'pw' });
    assert.match(config.kafka.tls?.ca ?? '', /BEGIN CERTIFICATE-----\nc\n-----END CERTIFICATE-----$/);
    assert.deepEqual(config.options.encryption?.key, new Uint8Array(32).fill(7));
    assert.equal(config.options.segmentMaxBytes, 4096);
    assert.deepEqual(resolver.reads.sort(), [
      'backup-key/encryption.key',
      'ca/ca.crt',
      'kafka-user/password',
      'kafka-user/username',
    ]);
  });

  test('missing secrets and spec problems are reported together, naming the field', async () => {
    const text = await problemsOf(
      backupConfigFromSpec(
        {
          kafkaCluster: { ...cluster, saslSecret: { name: 'absent', mechanism: 'PLAIN' } },
          topics: ['t'],
          storage,
          encryption: { keySecret: { name: 'no-key' } },
          segmentMaxBytes: 10,
        },
        secrets(),
        context,
      ),
    );
    assert.match(text, /kafkaCluster: SASL username: Secret absent has no key username/);
    assert.match(text, /encryption: Secret no-key has no key encryption\.key/);
    assert.match(text, /segmentMaxBytes: must be at least 1024/);
  });

  test('a KafkaRestore spec carries its offset handling; backupRef.name is accepted, not resolved', async () => {
    const base = { kafkaCluster: { bootstrapServers: ['t:9092'] }, backupRef: { name: 'nightly', storage } };
    const commit = await restoreConfigFromSpec(
      { ...base, offsetReset: { enabled: true, strategy: 'header_based', consumerGroups: ['g1'] } },
      secrets(),
      context,
    );
    assert.deepEqual(commit.offsetHandling, { mode: 'commit', groups: ['g1'] });
    assert.equal(commit.options.backupId, undefined, 'the latest backup unless backupRef.backupId says');
    const auto = await restoreConfigFromSpec({ ...base, autoConsumerGroups: true }, secrets(), context);
    assert.deepEqual(auto.offsetHandling, { mode: 'commit' });
    const none = await restoreConfigFromSpec(base, secrets(), context);
    assert.deepEqual(none.offsetHandling, { mode: 'none' });
    const noSnapshot = await restoreConfigFromSpec(
      {
        ...base,
        autoConsumerGroups: true,
        rollback: { snapshotBeforeRestore: false, autoRollbackOnFailure: true },
      },
      secrets(),
      context,
    );
    assert.deepEqual(noSnapshot.offsetHandling, { mode: 'commit', snapshot: false });
    const text = await problemsOf(
      restoreConfigFromSpec(
        { ...base, offsetReset: { enabled: true, strategy: 'cluster-scan', consumerGroups: ['g'], typo: 1 } },
        secrets(),
        context,
      ),
    );
    assert.match(text, /offsetReset\.strategy: cluster-scan is not supported: use header-based/);
    assert.match(text, /offsetReset\.typo: unknown field/);
  });

  test('storage only (list, describe, verify) from any spec that names one', async () => {
    const config = await storageConfigFromSpec(
      { backupRef: { backupId: 'b7', storage: { storageType: 's3', s3: { bucket: 'bk', region: 'r' } } } },
      secrets(),
      { source: 'f.yaml' },
    );
    assert.equal(config.backupId, 'b7');
    assert.equal(config.storage.type, 's3');
  });

  test('a KafkaOffsetReset spec: values for the use case, unknown fields refused', async () => {
    const config = await offsetResetConfigFromSpec(
      {
        kafkaCluster: cluster,
        storage,
        consumerGroups: ['billing'],
        resetStrategy: 'shift-by',
        resetShift: -10,
        topics: ['orders'],
        parallelism: 3,
        snapshotBeforeReset: true,
        offsetMappingRef: { restoreName: 'r1' },
      },
      secrets(),
      context,
    );
    assert.equal(config.strategy, 'shift-by');
    assert.equal(config.shift, -10n);
    assert.deepEqual(config.groups, ['billing']);
    assert.equal(config.parallelism, 3);
    assert.equal(config.kafka?.sasl?.password, 'pw');
    const text = await problemsOf(
      offsetResetConfigFromSpec(
        {
          kafkaCluster: cluster,
          consumerGroups: ['g'],
          backup: {},
          restore: {},
          offsetMappingRef: { nme: 'x' },
        },
        secrets(),
        context,
      ),
    );
    assert.match(text, /^backup: unknown field \(check its spelling\)$/m);
    assert.match(text, /^restore: unknown field/m);
    assert.match(text, /offsetMappingRef\.nme: unknown field/);
  });

  test('a KafkaOffsetRollback spec: the snapshot id from snapshotRef.name, verification on by default', async () => {
    const config = await offsetRollbackConfigFromSpec(
      { kafkaCluster: cluster, snapshotRef: { name: 'snap-1', storage }, consumerGroups: ['g'] },
      secrets(),
      context,
    );
    assert.equal(config.snapshotId, 'snap-1');
    assert.equal(config.verify, true);
    assert.equal(config.dryRun, false);
    assert.equal(config.storage?.type, 'filesystem');
    const text = await problemsOf(
      offsetRollbackConfigFromSpec({ snapshotRef: { name: 's' }, verify: true }, secrets(), context),
    );
    assert.match(text, /kafkaCluster: is required/);
    assert.match(text, /verify: unknown field/);
  });

  test('a KafkaBackupValidation spec: checks, the signing key through the resolver, unknown fields refused', async () => {
    const config = await validationConfigFromSpec(
      {
        backupRef: { name: 'nightly', backupId: 'b1', storage },
        kafkaCluster: { bootstrapServers: ['t:9092'] },
        topicMapping: { orders: 'orders-copy' },
        checks: {
          messageCount: { enabled: true, failThreshold: 2 },
          consumerGroupOffsets: { enabled: false },
          integrity: { enabled: true, deep: true },
          restoreSample: { enabled: true, segmentsPerPartition: 2 },
        },
        evidence: { signing: { enabled: true, keySecret: { name: 'signer' } }, formats: ['json'] },
        schedule: '@daily',
      },
      secrets(),
      context,
    );
    assert.equal(config.deep, true);
    assert.equal(config.restoreSample, 2);
    assert.deepEqual(config.messageCount, { failThreshold: 2, topics: [] });
    assert.equal(config.consumerGroupOffsets, false);
    assert.equal(config.hasChecks, true);
    assert.match(config.signingKeyPem ?? '', /BEGIN PRIVATE KEY/);
    assert.deepEqual(config.topicMapping, { orders: 'orders-copy' });
    const text = await problemsOf(
      validationConfigFromSpec(
        { backupRef: { storage }, checks: { integrty: {} }, restore: {} },
        secrets(),
        context,
      ),
    );
    assert.match(text, /checks\.integrty: unknown field/);
    assert.match(text, /^restore: unknown field/m);
    const noStorage = await problemsOf(
      validationConfigFromSpec({ backupRef: { name: 'x' } }, secrets(), context),
    );
    assert.match(noStorage, /backupRef: storage is required/);
  });

  test('a whole resource or its spec; another kind is parsed by its own rules; an unknown kind is refused', async () => {
    const doc = {
      apiVersion: 'kafka.oso.sh/v1alpha1',
      kind: 'KafkaRestore',
      metadata: { name: 'r1' },
      spec: { a: 1 },
    };
    assert.deepEqual(specOf(doc), { spec: { a: 1 }, kind: 'KafkaRestore', name: 'r1' });
    assert.deepEqual(specOf({ topics: ['t'] }), { spec: { topics: ['t'] } });
    const values = await specValuesOf(
      'KafkaRestore',
      {
        kafkaCluster: { bootstrapServers: ['t:9092'] },
        backupRef: { backupId: 'b1', storage },
        topicMapping: { a: 'b' },
      },
      secrets(),
      context,
    );
    assert.equal(values.backupId, 'b1');
    assert.deepEqual(values.topicMapping, { a: 'b' });
    assert.match(
      await problemsOf(specValuesOf('KafkaTopic', {}, secrets(), context)),
      /kind: KafkaTopic is not one of ours/,
    );
  });

  test("the product description's examples parse as the operator would pass them (names resolved first)", async () => {
    const seed = (file: string) =>
      specOf(parse(readFileSync(new URL(`../../fixtures/seed/${file}`, import.meta.url), 'utf8')));
    for (const file of ['hourly-backup.yaml', 'my-first-backup.yaml']) {
      const { spec, name } = seed(file);
      const config = await backupConfigFromSpec(spec, secrets(), { source: file, ...(name ? { name } : {}) });
      assert.equal(config.options.backupId, name);
      assert.equal(config.storage.type, 's3');
    }
    const reset = seed('reset-after-restore.yaml');
    const resetConfig = await offsetResetConfigFromSpec(reset.spec, secrets(), { source: 'reset' });
    assert.equal(resetConfig.strategy, 'from-mapping');
    const restore = seed('pitr-restore.yaml');
    const unresolved = await problemsOf(restoreConfigFromSpec(restore.spec, secrets(), { source: 'pitr' }));
    assert.match(unresolved, /storage: is required/, 'backupRef.name alone is not resolved here');
    const resolved = {
      ...(restore.spec as Record<string, unknown>),
      backupRef: { name: 'production-backup', backupId: 'production-backup', storage },
    };
    const restoreConfig = await restoreConfigFromSpec(resolved, secrets(), { source: 'pitr' });
    assert.deepEqual(restoreConfig.options.bounds, { endTime: 1733054400000n });
  });
});
