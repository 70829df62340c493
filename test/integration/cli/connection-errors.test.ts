import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, kafkaConnection, withAdmin } from '../../env/kafka-client.ts';
import { fidelityRecords, produceAll } from '../engine/helpers.ts';
import { type CliRun, runCli, type Workspace, workspace, writeSourceSaslSecrets } from './cli-helpers.ts';

/**
 * Issue 10: each mistake at the Kafka port gets its own message and reason. Authentication and TLS
 * failures are not retried (one connection attempt in the structured log) and end within seconds;
 * refused connections and unresolvable names are retried and summarised once.
 */
describe('CLI: Kafka connection failures are named (real listeners)', { timeout: 180_000 }, () => {
  let ws: Workspace;
  let env: Record<string, string>;
  const password = 'wrong-password-7f3a';
  before(async () => {
    ws = await workspace();
    const kafka = need('kafka');
    const user = await writeSourceSaslSecrets(ws, 'good-user');
    await ws.writeSecret('wrong-user', 'username', user.username);
    const denied = kafka.source.saslSsl.users[1];
    assert.ok(denied);
    await ws.writeSecret('denied-user', 'username', denied.username);
    await ws.writeSecret('denied-user', 'password', denied.password);
    await ws.writeSecret('wrong-user', 'password', password);
    // A CA that did not sign the broker's certificate.
    const key = path.join(ws.dir, 'other-ca.key');
    const crt = path.join(ws.dir, 'other-ca.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        crt,
        '-days',
        '1',
        '-subj',
        '/CN=not-the-kafka-ca',
      ],
      { stdio: 'ignore' },
    );
    await ws.writeSecret('other-ca', 'ca.crt', await readFile(crt, 'utf8'));
    env = { KAFKA_BACKUP_SECRETS_DIR: ws.secretsDir };
  });
  after(async () => ws.cleanup());

  const backup = async (
    name: string,
    kafkaCluster: Record<string, unknown>,
    topics = ['t'],
  ): Promise<CliRun & { ms: number }> => {
    const file = await ws.writeConfig(`${name}.yaml`, {
      kafkaCluster: { connection: { connectTimeoutMs: 3000 }, ...kafkaCluster },
      topics,
      storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store-${name}` } },
    });
    const started = Date.now();
    const run = await runCli(['backup', '-c', file, '-o', 'json'], env);
    return { ...run, ms: Date.now() - started };
  };
  const sasl = (secret: string, ca = 'kafka-ca', mechanism = 'SCRAM-SHA-512') => ({
    bootstrapServers: [need('kafka').source.saslSsl.bootstrap],
    securityProtocol: 'SASL_SSL',
    caSecret: { name: ca },
    saslSecret: { name: secret, mechanism },
  });
  const attempts = (run: CliRun) =>
    run.stderr.split('\n').filter((l) => l.includes('"kafka connection attempt failed"')).length;
  const errorOf = (run: CliRun) => (JSON.parse(run.stdout) as { error: string }).error;
  const terminal = (run: CliRun & { ms: number }, pattern: RegExp) => {
    assert.equal(run.code, 4, run.stderr);
    assert.match(errorOf(run), pattern);
    assert.equal(attempts(run), 1, `terminal failures are not retried:\n${run.stderr}`);
    assert.ok(run.ms < 20_000, `took ${run.ms} ms`);
    const user = need('kafka').source.saslSsl.users[0];
    for (const secret of [password, user?.password ?? '']) {
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a password was printed');
    }
  };

  /** Connected and authenticated, then refused by an ACL: exit 4 at once, no request retried. */
  const denied = (run: CliRun & { ms: number }, pattern: RegExp) => {
    assert.equal(run.code, 4, run.stderr);
    assert.match(errorOf(run), pattern);
    assert.doesNotMatch(run.stderr, /attempt failed|retrying/, 'an authorization failure is not retried');
    assert.ok(run.ms < 20_000, `took ${run.ms} ms`);
    for (const u of need('kafka').source.saslSsl.users) {
      assert.ok(
        !run.stdout.includes(u.password) && !run.stderr.includes(u.password),
        'a password was printed',
      );
    }
  };

  test('wrong SCRAM password: AuthenticationFailed naming user and mechanism, at once', async () => {
    const kafka = need('kafka');
    const user = kafka.source.saslSsl.users[0]?.username;
    // The username inline (a username read from a Secret is redacted like every Secret value).
    const run = await backup('wrong-password', {
      bootstrapServers: [kafka.source.saslSsl.bootstrap],
      securityProtocol: 'SASL_SSL',
      tls: { caFile: kafka.source.saslSsl.caFile },
      sasl: {
        mechanism: 'SCRAM-SHA-512',
        username: user,
        passwordFile: path.join(ws.secretsDir, 'wrong-user', 'password'),
      },
    });
    terminal(
      run,
      new RegExp(`SASL authentication of user '${user}' with SCRAM-SHA-512 failed at 127\\.0\\.0\\.1:\\d+`),
    );
  });

  test('wrong SCRAM password from a Secret: same reason naming the user read from it, the password never printed', async () => {
    const user = need('kafka').source.saslSsl.users[0]?.username as string;
    terminal(
      await backup('wrong-secret', sasl('wrong-user')),
      new RegExp(`SASL authentication of user '${user}' with SCRAM-SHA-512 failed`),
    );
  });

  test('topics the user may not describe, or only not read: AuthorizationFailed naming topic and user, at once', async () => {
    const kafka = need('kafka');
    const source = kafkaConnection(kafka, 'source');
    const user = kafka.source.saslSsl.users[1]?.username as string;
    const hidden = uniqueName('acl-hidden');
    const unreadable = uniqueName('acl-unreadable');
    const acl = (topic: string, operation: number) => ({
      resourceType: ResourceTypes.TOPIC,
      resourceName: topic,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: `User:${user}`,
      host: '*',
      operation: operation as (typeof AclOperations)[keyof typeof AclOperations],
      permissionType: AclPermissionTypes.DENY,
    });
    const acls = [acl(hidden, AclOperations.ALL), acl(unreadable, AclOperations.READ)];
    await createTopic(source, hidden, { partitions: 1 });
    await createTopic(source, unreadable, { partitions: 1 });
    // A record to fetch: an empty topic is backed up without a Fetch request.
    await produceAll(source, unreadable, fidelityRecords(3, 1));
    await withAdmin(source, (admin) => admin.createAcls({ creations: acls }));
    try {
      // The broker applies ACLs as it replays its metadata log: a moment after the call returns.
      await new Promise((r) => setTimeout(r, 1000));
      denied(
        await backup('acl-hidden', sasl('denied-user'), [hidden]),
        new RegExp(
          `denied access to the topic ${hidden} \\(TOPIC_AUTHORIZATION_FAILED\\) for user '${user}': grant the ACLs`,
        ),
      );
      // Described but not readable: refused by the fetch itself, not retried for the fetch budget.
      denied(
        await backup('acl-unreadable', sasl('denied-user'), [unreadable]),
        new RegExp(`denied access to the topic ${unreadable} .*for user '${user}': grant the ACLs`),
      );
    } finally {
      await withAdmin(source, (admin) => admin.deleteAcls({ filters: acls.map((a) => ({ ...a })) })).catch(
        () => {},
      );
      await deleteTopic(source, hidden).catch(() => {});
      await deleteTopic(source, unreadable).catch(() => {});
    }
  });

  test('SCRAM-SHA-256 for a SCRAM-SHA-512 user: the broker enables only SCRAM-SHA-512', async () => {
    const run = await backup('sha256', sasl('good-user', 'kafka-ca', 'SCRAM-SHA-256'));
    terminal(run, /does not enable SASL mechanism SCRAM-SHA-256; it enables SCRAM-SHA-512/);
  });

  test('a CA that did not sign the broker certificate: TLS handshake failed, naming the CA Secret', async () => {
    const run = await backup('other-ca', sasl('good-user', 'other-ca'));
    terminal(
      run,
      /TLS handshake with 127\.0\.0\.1:\d+ failed: the broker's certificate is not signed by the CA in secret other-ca key ca\.crt/,
    );
  });

  test("a server name the broker's certificate does not list: names it and the certificate's names", async () => {
    const run = await backup('hostname', {
      ...sasl('good-user'),
      caSecret: undefined,
      tls: { caFile: need('kafka').source.saslSsl.caFile, serverName: 'wrong.example' },
    });
    terminal(run, /certificate is not valid for 'wrong\.example' \(it names .*DNS:localhost.*\)/);
  });

  test('SASL_SSL against the PLAINTEXT listener: the listener did not speak TLS', async () => {
    const run = await backup('plaintext', {
      ...sasl('good-user'),
      bootstrapServers: [need('kafka').source.bootstrap],
    });
    terminal(run, /did not speak TLS; check securityProtocol \(SASL_SSL\)/);
  });

  test('nothing listening: refused, retried, summarised once', async () => {
    const run = await backup('closed', {
      bootstrapServers: ['127.0.0.1:1'],
      connection: { connectTimeoutMs: 500 },
    });
    assert.equal(run.code, 4, run.stderr);
    assert.match(
      errorOf(run),
      /^could not connect to the cluster: connection to 127\.0\.0\.1:1 refused, 6 attempts over [\d.]+ s$/,
    );
    assert.equal(attempts(run), 6);
  });

  test('a consumer-group command against a closed port: the same summary (groups wait for the connection)', async () => {
    const file = await ws.writeConfig('offsets.yaml', {
      kafkaCluster: { bootstrapServers: ['127.0.0.1:1'], connection: { connectTimeoutMs: 500 } },
      backupRef: { storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/offsets-store` } } },
      consumerGroups: ['g1'],
      resetStrategy: 'earliest',
    });
    const run = await runCli(['offsets', 'snapshot', '-c', file, '--all-groups', '-o', 'json'], env);
    assert.equal(run.code, 4, run.stderr);
    assert.match(
      errorOf(run),
      /^could not connect to the cluster: connection to 127\.0\.0\.1:1 refused, 6 attempts over [\d.]+ s$/,
    );
    assert.equal(attempts(run), 6);
  });

  test('an unresolvable name: not resolved, retried, summarised once', async () => {
    const run = await backup('dns', {
      bootstrapServers: ['no-such-host.invalid:9092'],
      connection: { connectTimeoutMs: 500 },
    });
    assert.equal(run.code, 4, run.stderr);
    assert.match(
      errorOf(run),
      /the name no-such-host\.invalid could not be resolved .*, 6 attempts over [\d.]+ s$/,
    );
    assert.equal((errorOf(run).match(/could not be resolved/g) ?? []).length, 1);
  });
});
