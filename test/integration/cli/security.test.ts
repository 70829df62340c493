import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { fidelityRecords, produceAll, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, type Workspace, workspace, writeSourceSaslSecrets } from './cli-helpers.ts';

describe('CLI over SASL_SSL (SCRAM-SHA-512, private CA) with credentials from mounted secrets', {
  timeout: 120_000,
}, () => {
  const source = testConnection('source');
  const topic = uniqueName('secure');
  let ws: Workspace;
  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 1 });
    await produceAll(source, topic, fidelityRecords(500, 1));
    const user = await writeSourceSaslSecrets(ws, 'backup-user');
    await ws.writeSecret('wrong-user', 'username', user.username);
    await ws.writeSecret('wrong-user', 'password', 'wrong-password-123');
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await ws.cleanup();
  });

  const config = (secret: string) =>
    ws.writeConfig(`${secret}.yaml`, {
      kafkaCluster: {
        bootstrapServers: [need('kafka').source.saslSsl.bootstrap],
        securityProtocol: 'SASL_SSL',
        caSecret: { name: 'kafka-ca' },
        saslSecret: { name: secret, mechanism: 'SCRAM-SHA-512' },
        connection: { connectTimeoutMs: 3000 },
      },
      topics: [topic],
      storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store-${secret}` } },
    });

  test('backs up with the right credentials; the wrong password fails with exit 4 and is never printed', async () => {
    const env = { KAFKA_BACKUP_SECRETS_DIR: ws.secretsDir };
    const ok = await runCli(['backup', '-c', await config('backup-user'), '-o', 'json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(parseJsonOutput(ok).records, 500);
    const user = need('kafka').source.saslSsl.users[0];
    assert.ok(user && !ok.stderr.includes(user.password) && !ok.stdout.includes(user.password));

    const wrong = await runCli(['backup', '-c', await config('wrong-user'), '-o', 'json'], env);
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /wrong-password-123/);
  });
});
