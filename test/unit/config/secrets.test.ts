import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readKafkaCluster, resolveKafkaCluster } from '../../../runtime/config/kafka-cluster.ts';
import { Reader } from '../../../runtime/config/reader.ts';
import { scrub } from '../../../runtime/log.ts';
import { mapSecrets } from '../app/memory-ports.ts';

describe('secrets read for a Kafka connection', () => {
  test('the SASL password is redacted everywhere; the username read from the same Secret is not', async () => {
    const username = 'svc-backup-7c1e';
    const password = 'p4ss-word-9d2b';
    const secrets = mapSecrets({ 'kafka-user/username': username, 'kafka-user/password': password });
    const problems: string[] = [];
    const spec = readKafkaCluster(
      new Reader({
        bootstrapServers: ['broker:9093'],
        securityProtocol: 'SASL_SSL',
        saslSecret: { name: 'kafka-user', mechanism: 'SCRAM-SHA-512' },
      }),
    );
    const config = await resolveKafkaCluster(spec, secrets, problems);
    assert.deepEqual(problems, []);
    assert.equal(config.sasl?.username, username);
    assert.equal(
      scrub(`SASL authentication of user '${username}' (password ${password}) failed`),
      `SASL authentication of user '${username}' (password [redacted]) failed`,
    );
  });
});
