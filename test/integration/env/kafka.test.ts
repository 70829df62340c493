/**
 * Proves the test environment runs two real, independent Kafka clusters: records go in and come back
 * out through each listener (the source's PLAINTEXT and SASL_SSL/SCRAM-SHA-512, the target's
 * PLAINTEXT), bad credentials and an unknown CA are refused, and the clusters share nothing.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, type TestContext, test } from 'node:test';
import { Admin, AuthenticationError } from '@platformatic/kafka';
import { kafkaVersion } from '../../env/components/kafka.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import {
  createTopic,
  deleteTopic,
  endOffsets,
  findInErrorTree,
  type KafkaConnection,
  type KafkaListener,
  kafkaConnection,
  listTopics,
  produce,
  produceTransactions,
  readPartition,
  type TestRecord,
  withAdmin,
} from '../../env/kafka-client.ts';

const kafka = need('kafka');

async function topicFor(
  t: TestContext,
  connection: KafkaConnection,
  options = { partitions: 2 },
): Promise<string> {
  const topic = uniqueName('env-kafka');
  await createTopic(connection, topic, options);
  t.after(() => deleteTopic(connection, topic));
  return topic;
}

const records: TestRecord[] = [
  { partition: 1, key: 'k1', value: 'first', headers: [['trace', 'a']], timestamp: 1_700_000_000_000n },
  {
    partition: 1,
    key: null,
    value: '',
    headers: [
      ['dup', '1'],
      ['dup', '2'],
      ['nothing', null],
    ],
    timestamp: 1_700_000_000_001n,
  },
  { partition: 1, key: '', value: null, timestamp: 1_700_000_000_002n },
];

/** Produces the sample records to partition 1 and reads them back by explicit partition and offset. */
async function roundTrip(connection: KafkaConnection, topic: string): Promise<void> {
  const produced = await produce(connection, topic, records);
  const first = produced.offsets?.find((o) => o.partition === 1)?.offset;
  assert.equal(first, 0n, 'the first record of a new partition has offset 0');

  const read = await readPartition(connection, topic, {
    partition: 1,
    fromOffset: 0n,
    count: records.length,
  });
  assert.deepEqual(
    read.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key?.toString() ?? null,
      value: r.value?.toString() ?? null,
      headers: r.headers.map(([k, v]) => [k.toString(), v?.toString() ?? null]),
    })),
    [
      { offset: 0n, timestamp: 1_700_000_000_000n, key: 'k1', value: 'first', headers: [['trace', 'a']] },
      {
        offset: 1n,
        timestamp: 1_700_000_000_001n,
        key: null,
        value: '',
        headers: [
          ['dup', '1'],
          ['dup', '2'],
          ['nothing', null],
        ],
      },
      { offset: 2n, timestamp: 1_700_000_000_002n, key: '', value: null, headers: [] },
    ],
  );
  const later = await readPartition(connection, topic, { partition: 1, fromOffset: 2n, count: 1 });
  assert.equal(later[0]?.offset, 2n, 'reading from an explicit offset starts there');
  assert.deepEqual(await endOffsets(connection, topic), [0n, 3n], 'partition 0 received nothing');
}

async function clusterIdVia(connection: KafkaConnection): Promise<string> {
  return withAdmin(connection, async (admin) => (await admin.metadata({ topics: [] })).id);
}

describe('Kafka clusters of the test environment', () => {
  const listeners: Array<[KafkaListener, string]> = [
    ['source', kafka.source.clusterId],
    ['source-sasl-ssl', kafka.source.clusterId],
    ['target', kafka.target.clusterId],
  ];

  for (const [listener, clusterId] of listeners) {
    test(`${listener}: produces and consumes records through the listener`, async (t) => {
      const connection = kafkaConnection(kafka, listener);
      assert.equal(await clusterIdVia(connection), clusterId);
      const topic = await topicFor(t, connection);
      await roundTrip(connection, topic);
    });
  }

  test('source: every SCRAM user logs in over SASL_SSL and sees what PLAINTEXT clients wrote', async (t) => {
    assert.ok(kafka.source.saslSsl.users.length >= 2, 'the source cluster has at least two SCRAM users');
    const plaintext = kafkaConnection(kafka, 'source');
    const topic = await topicFor(t, plaintext, { partitions: 1 });
    await produce(plaintext, topic, [{ key: 'via', value: 'plaintext' }]);
    for (const user of kafka.source.saslSsl.users) {
      assert.equal(user.mechanism, 'SCRAM-SHA-512');
      const [record] = await readPartition(kafkaConnection(kafka, 'source-sasl-ssl', user), topic, {
        count: 1,
      });
      assert.equal(record?.value?.toString(), 'plaintext', `user ${user.username} reads the record`);
    }
  });

  test('source: a wrong SCRAM password is rejected with an authentication error', async () => {
    const [user] = kafka.source.saslSsl.users;
    assert.ok(user);
    const wrong = kafkaConnection(kafka, 'source-sasl-ssl', { ...user, password: `${user.password}-wrong` });
    const admin = new Admin({ clientId: 'env-kafka-wrong-password', ...wrong, retries: 0 });
    try {
      await assert.rejects(admin.metadata({ topics: [] }), (error: Error) => {
        const auth = findInErrorTree(error, (e) => e.code === AuthenticationError.code);
        assert.ok(auth, `expected an AuthenticationError, got: ${error}`);
        const refusal = findInErrorTree(auth, (e) => e.apiId === 'SASL_AUTHENTICATION_FAILED');
        assert.ok(refusal, `expected the broker's SASL_AUTHENTICATION_FAILED, got: ${auth}`);
        assert.match(
          String(refusal.serverErrorMessage),
          /invalid credentials with SASL mechanism SCRAM-SHA-512/,
        );
        return true;
      });
    } finally {
      await admin.close();
    }
  });

  test('source: the SASL_SSL listener only trusts its own CA', async () => {
    const { tls: _tls, ...untrusted } = kafkaConnection(kafka, 'source-sasl-ssl');
    const admin = new Admin({ clientId: 'env-kafka-untrusted', ...untrusted, tls: {}, retries: 0 });
    try {
      await assert.rejects(admin.metadata({ topics: [] }), (error: Error) => {
        const tlsFailure = findInErrorTree(error, (e) => /self[- ]signed|unable to verify/i.test(e.message));
        assert.ok(tlsFailure, `expected a certificate verification failure, got: ${error}`);
        return true;
      });
    } finally {
      await admin.close();
    }
  });

  test('source: transactions commit and abort; read_committed skips aborted records', async (t) => {
    const connection = kafkaConnection(kafka, 'source-sasl-ssl');
    const topic = await topicFor(t, connection, { partitions: 1 });
    // Two aborted transactions of one producer in a row: @platformatic/kafka 2.12.1's own filter
    // lets the first one leak when both arrive in one fetch response.
    await produceTransactions(connection, topic, [
      { records: [{ value: 'c1' }], outcome: 'commit' },
      { records: [{ value: 'a1' }, { value: 'a1' }], outcome: 'abort' },
      { records: [{ value: 'a2' }], outcome: 'abort' },
      { records: [{ value: 'c2' }], outcome: 'commit' },
    ]);
    await produce(connection, topic, [{ value: 'plain' }], { idempotent: true });

    const committed = await readPartition(connection, topic, { count: 3, readCommitted: true });
    assert.deepEqual(
      committed.map((r) => r.value?.toString()),
      ['c1', 'c2', 'plain'],
    );
    const everything = await readPartition(connection, topic, { count: 6 });
    assert.deepEqual(
      everything.map((r) => r.value?.toString()),
      ['c1', 'a1', 'a1', 'a2', 'c2', 'plain'],
      'read_uncommitted sees aborted records too (markers are not records)',
    );
  });

  test('source and target are independent clusters', async (t) => {
    assert.notEqual(kafka.source.clusterId, kafka.target.clusterId);
    assert.equal(await clusterIdVia(kafkaConnection(kafka, 'source')), kafka.source.clusterId);
    assert.equal(await clusterIdVia(kafkaConnection(kafka, 'target')), kafka.target.clusterId);

    const topic = await topicFor(t, kafkaConnection(kafka, 'source'), { partitions: 1 });
    assert.ok((await listTopics(kafkaConnection(kafka, 'source'))).includes(topic));
    assert.ok(
      !(await listTopics(kafkaConnection(kafka, 'target'))).includes(topic),
      'the target has no such topic',
    );
  });

  test('libDir holds the pinned Kafka broker and the perf tools', () => {
    const jars = readdirSync(kafka.libDir);
    assert.ok(
      jars.includes(`kafka_2.13-${kafkaVersion()}.jar`),
      `kafka_2.13-${kafkaVersion()}.jar in ${kafka.libDir}`,
    );
    assert.ok(
      jars.includes(`kafka-tools-${kafkaVersion()}.jar`),
      'kafka-tools (ProducerPerformance) is there',
    );
  });
});
