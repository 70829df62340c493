/**
 * The KafkaBackupValidation controller end to end: the operator as a process (ServiceAccount token,
 * exactly the RBAC lib/operator.ts synthesizes), a backup taken into MinIO by the engine, a
 * KafkaBackup pointing at it, and validations referring to it by backupRef.name. A local HTTP
 * receiver on 127.0.0.1 plays the custom webhooks, Slack and PagerDuty.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { runEvidenceVerify } from '../../../runtime/evidence/commands.ts';
import { BackupRepository } from '../../../runtime/format/repository.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { S3ObjectStore } from '../../../runtime/storage/s3.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, kafkaConnection, produce } from '../../env/kafka-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';
import { REPO } from '../api/crd-install.ts';
import { eventually, installOperator, kafkaBackup, minioStorage } from './operator-env.ts';
import { startReplica } from './operator-replica.ts';

const kafka = need('kafka');
const s3 = need('s3');

interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

async function receiver() {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      requests.push({ path: req.url ?? '', body: JSON.parse(body || '{}') });
      if (req.url?.includes('/slow')) return; // never answers: the run's deadline ends it
      res.writeHead(req.url?.includes('/bad') ? 500 : req.url?.includes('/ok') ? 204 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { requests, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

type Status = {
  phase?: string;
  validationResult?: string;
  lastScheduleTime?: string;
  startTime?: string;
  nextScheduleTime?: string;
  history?: { id: string; phase: string; startTime: string; completionTime: string }[];
  message?: string;
  observedRerun?: string;
  evidenceReportPath?: string;
  evidenceReportSigned?: boolean;
  checkResults?: { checkName: string; outcome: string; message?: string }[];
  conditions?: { type: string; status: string; reason: string; message?: string }[];
};

test('KafkaBackupValidation: signed report that verifies, a failing webhook fails it by name, notifications arrive, a missing KafkaBackup stalls, rerun runs again, no secret leaks', async (t) => {
  const { admin, watched, kubeconfig } = await installOperator(t, {
    secretNames: ['minio', 'signing', 'notify'],
  });
  const http = await receiver();
  t.after(() => {
    http.server.closeAllConnections();
    http.server.close();
  });

  // A backup in MinIO, taken by the engine directly (not through a KafkaBackup controller).
  const client = s3Client(s3);
  const bucket = await createS3Bucket(client, 'kbv');
  const source = kafkaConnection(kafka, 'source');
  const topic = uniqueName('kbv');
  await createTopic(source, topic, { partitions: 2 });
  t.after(() => deleteTopic(source, topic).catch(() => {}));
  await produce(
    source,
    topic,
    Array.from({ length: 100 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
  );
  const store = new S3ObjectStore({
    bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    pathStyle: true,
    allowHttp: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const port = new PlatformaticKafka({
    bootstrapServers: [kafka.source.bootstrap],
    securityProtocol: 'PLAINTEXT',
  });
  try {
    await runBackup(
      { kafka: port, repository: new BackupRepository(store) },
      { backupId: 'nightly', topics: { include: [topic] }, segmentMaxBytes: 1024 },
    );
  } finally {
    await port.close();
  }

  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = signer.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const slackToken = 'xoxb-sl4ck-t0ken-9f8e7d';
  const routingKey = 'pd-r0uting-k3y-1a2b3c4d';
  const secret = (name: string, stringData: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    stringData,
  });
  await admin.apply(
    [
      secret('minio', { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey }),
      secret('signing', { 'signing-key.pem': privatePem, 'signing-key-pub.pem': publicPem }),
      secret('notify', { slack: `${http.url}/slack/${slackToken}`, 'routing-key': routingKey }),
      kafkaBackup('nightly', {
        kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
        topics: [topic],
        storage: minioStorage(s3, bucket, 'minio'),
      }),
    ],
    watched,
  );

  const operator = startReplica('op-validation', {
    kubeconfig,
    watched,
    args: [
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
      '--log-level=debug',
    ],
  });
  t.after(async () => {
    await operator.stop();
    if (process.env.KBV_DEBUG) process.stderr.write(`--- operator logs ---\n${operator.output()}\n`);
  });
  // After hooks run in the order they were added: the operator has stopped writing reports by now.
  t.after(() => deleteS3Bucket(client, bucket));

  const common = {
    checks: {
      messageCount: { enabled: false },
      offsetRange: { enabled: false },
      consumerGroupOffsets: { enabled: false },
      integrity: { enabled: true, deep: true },
    },
    evidence: { formats: ['json', 'html'], signing: { enabled: true, keySecret: { name: 'signing' } } },
    notifications: {
      slack: { webhookSecret: { name: 'notify', key: 'slack' } },
      pagerduty: {
        routingKeySecret: { name: 'notify', key: 'routing-key' },
        severity: 'error',
        eventsUrl: `${http.url}/pagerduty/v2/enqueue`,
      },
    },
  };
  const validation = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaBackupValidation',
    metadata: { name },
    spec,
  });
  const withHooks = (
    hooks: { name: string; url: string; expectedStatusCode?: number; timeoutSecs?: number }[],
  ) => ({
    ...common,
    checks: { ...common.checks, customWebhooks: hooks },
  });
  // The CRDs are cluster-wide and other checkouts' tests apply theirs to the same API server:
  // this branch's KafkaBackupValidation schema again, just before it is used.
  await admin.kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=kafka-backup-api-test',
    '-f',
    join(REPO, 'crds', 'kafkabackupvalidations.kafka.oso.sh.yaml'),
  ]);
  await admin.apply(
    [
      validation('passing', {
        backupRef: { name: 'nightly' },
        ...withHooks([{ name: 'ok-hook', url: `${http.url}/hooks/ok`, expectedStatusCode: 204 }]),
      }),
      validation('failing', {
        backupRef: { name: 'nightly' },
        ...withHooks([{ name: 'bad-hook', url: `${http.url}/hooks/bad` }]),
      }),
      validation('dangling', { backupRef: { name: 'no-such-backup' }, ...common }),
      validation('slow', {
        backupRef: { name: 'nightly' },
        activeDeadlineSeconds: 3,
        ...withHooks([{ name: 'slow-hook', url: `${http.url}/hooks/slow`, timeoutSecs: 600 }]),
      }),
      // Seconds first, every 5 seconds (the previous operator's form), all its runs kept in history.
      validation('every5s', {
        backupRef: { name: 'nightly' },
        checks: common.checks,
        schedule: '*/5 * * * * *',
        successfulRunsHistoryLimit: 100,
        failedRunsHistoryLimit: 100,
      }),
      validation('forbidden', {
        backupRef: { name: 'nightly' },
        ...common,
        evidence: { signing: { enabled: true, keySecret: { name: 'not-in-secret-names' } } },
      }),
    ],
    watched,
  );
  const status = async (name: string): Promise<Status> =>
    ((await admin.getJson(['-n', watched, 'kafkabackupvalidations.kafka.oso.sh', name])).status as Status) ??
    {};
  const condition = (s: Status, type: string) => s.conditions?.find((c) => c.type === type);

  await eventually(
    'the passing validation is Ready',
    async () => condition(await status('passing'), 'Ready')?.status === 'True',
    120_000,
  );
  const passed = await status('passing');
  assert.equal(passed.phase, 'Completed', passed.message);
  assert.equal(passed.evidenceReportSigned, true);
  const okHook = passed.checkResults?.find((c) => c.checkName === 'ok-hook');
  assert.deepEqual([okHook?.outcome, okHook?.message], ['Passed', 'custom webhook answered HTTP 204']);
  assert.equal(passed.checkResults?.find((c) => c.checkName === 'segment-integrity')?.outcome, 'Passed');
  const path = passed.evidenceReportPath ?? '';
  assert.match(path, new RegExp(`^s3://${bucket}/evidence/nightly/(validation-[^/]+)/report\\.json$`));
  const reportId = /evidence\/nightly\/([^/]+)\//.exec(path)?.[1] ?? '';
  const verified = await runEvidenceVerify(
    {
      location: { kind: 'storage', backupId: 'nightly', reportId },
      publicKey: { pem: publicPem },
      requireHtml: true,
    },
    { store },
  );
  assert.equal(verified.failure, undefined, verified.text);

  await eventually(
    'the failing validation is Failed',
    async () => (await status('failing')).phase === 'Failed',
    120_000,
  );
  const failed = await status('failing');
  assert.match(failed.message ?? '', /^checks failed: bad-hook/);
  assert.deepEqual(
    [condition(failed, 'Ready')?.status, condition(failed, 'Ready')?.reason],
    ['False', 'ChecksFailed'],
  );
  assert.equal(condition(failed, 'Stalled')?.status, 'False');

  await eventually(
    'the dangling validation is Stalled',
    async () => condition(await status('dangling'), 'Stalled')?.status === 'True',
  );
  const dangling = await status('dangling');
  assert.equal(condition(dangling, 'Stalled')?.reason, 'BackupNotFound');
  assert.match(
    condition(dangling, 'Stalled')?.message ?? '',
    /KafkaBackup .*\/no-such-backup .*does not exist.*retrying in \d+s/,
  );

  // The KafkaBackup appears (same storage): the stalled validation runs without waiting out its backoff.
  const nightly = await admin.getJson<{ spec: Record<string, unknown> }>([
    '-n',
    watched,
    'kafkabackups.kafka.oso.sh',
    'nightly',
  ]);
  await admin.apply([{ ...kafkaBackup('no-such-backup'), spec: nightly.spec }], watched);
  // Its last successful backup set, as its controller would record it: the one in MinIO.
  await admin.kubectl([
    '-n',
    watched,
    'patch',
    'kafkabackups.kafka.oso.sh/no-such-backup',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { backupId: 'nightly' } }),
  ]);
  await eventually(
    'the dangling validation ran once its KafkaBackup exists',
    async () => (await status('dangling')).phase === 'Completed',
    60_000,
  );

  await eventually(
    'the slow validation hits its deadline',
    async () => (await status('slow')).phase === 'Failed',
    60_000,
  );
  const slow = await status('slow');
  assert.equal(condition(slow, 'Ready')?.reason, 'DeadlineExceeded');
  assert.match(slow.message ?? '', /activeDeadlineSeconds \(3s\)/);

  await eventually(
    'the forbidden Secret stalls its validation',
    async () => condition(await status('forbidden'), 'Stalled')?.status === 'True',
  );
  const forbidden = condition(await status('forbidden'), 'Stalled');
  assert.equal(forbidden?.reason, 'InvalidConfig');
  assert.match(
    forbidden?.message ?? '',
    /may not read Secret .*\/not-in-secret-names: add 'not-in-secret-names' to the KafkaBackupOperator's secretNames/,
  );

  // Notifications: Slack for both, PagerDuty resolves for the pass and triggers for the failure.
  await eventually(
    'notifications arrived',
    () => http.requests.filter((r) => r.path.startsWith('/pagerduty')).length >= 2,
  );
  const slack = http.requests
    .filter((r) => r.path === `/slack/${slackToken}`)
    .map((r) => String(r.body.text));
  assert.ok(
    slack.some((text) =>
      /^Backup validation PASSED: nightly \(KafkaBackupValidation .*\/passing\)$/.test(text),
    ),
    slack.join('\n'),
  );
  assert.ok(
    slack.some((text) => /FAILED.*failed checks: bad-hook/.test(text)),
    slack.join('\n'),
  );
  const pd = http.requests.filter((r) => r.path === '/pagerduty/v2/enqueue').map((r) => r.body);
  const trigger = pd.find((b) => b.event_action === 'trigger');
  assert.equal(trigger?.routing_key, routingKey);
  assert.deepEqual(
    {
      severity: (trigger?.payload as Record<string, unknown> | undefined)?.severity,
      source: (trigger?.payload as Record<string, unknown> | undefined)?.source,
    },
    { severity: 'error', source: `KafkaBackupValidation ${watched}/failing` },
  );
  assert.ok(
    pd.some(
      (b) =>
        b.event_action === 'resolve' &&
        b.dedup_key === `kafka-backup-validation/KafkaBackupValidation ${watched}/passing`,
    ),
  );
  const hook = http.requests.find((r) => r.path === '/hooks/ok')?.body;
  assert.equal((hook?.backup as { id?: string } | undefined)?.id, 'nightly');

  // The rerun annotation: a new run, a new report.
  await admin.kubectl([
    '-n',
    watched,
    'annotate',
    'kafkabackupvalidations.kafka.oso.sh/passing',
    'kafka.oso.sh/rerun=1',
  ]);
  await eventually(
    'the rerun completed with a new report',
    async () => {
      const s = await status('passing');
      return s.observedRerun === '1' && s.phase === 'Completed' && s.evidenceReportPath !== path;
    },
    120_000,
  );

  // The scheduled validation: runs that start at their tick's second, Ready between ticks.
  await eventually(
    'the scheduled validation passed at two ticks',
    async () => ((await status('every5s')).history ?? []).filter((h) => h.phase === 'Succeeded').length >= 2,
    60_000,
  );
  const every5s = await status('every5s');
  assert.equal(every5s.validationResult, 'Pass', every5s.message);
  const tickOf = (iso: string) => Math.floor(Date.parse(iso) / 5000) * 5000;
  const succeeded = (every5s.history ?? []).filter((h) => h.phase === 'Succeeded');
  assert.equal(new Set(succeeded.map((r) => tickOf(r.startTime))).size, succeeded.length, 'one run per tick');
  // The latest run (status.startTime, written with lastScheduleTime when it starts; it may still be
  // going, so not history[0]) serves the tick in lastScheduleTime: it started at or after it, before
  // the next one (how soon after depends on the machine's load, which a test must not assert).
  const late = Date.parse(every5s.startTime ?? '') - Date.parse(every5s.lastScheduleTime ?? '');
  assert.ok(late >= 0 && late < 5000, `the run started ${every5s.startTime}, ${late} ms after its tick`);
  assert.equal(
    Date.parse(every5s.lastScheduleTime ?? '') % 5000,
    0,
    `lastScheduleTime ${every5s.lastScheduleTime}`,
  );
  assert.equal(
    Date.parse(every5s.nextScheduleTime ?? '') % 5000,
    0,
    `nextScheduleTime ${every5s.nextScheduleTime}`,
  );
  assert.ok(Date.parse(every5s.nextScheduleTime ?? '') > Date.parse(every5s.lastScheduleTime ?? ''));
  // Suspended: the run going finishes, none starts; what ran is then all in history.
  await admin.kubectl([
    '-n',
    watched,
    'patch',
    'kafkabackupvalidations.kafka.oso.sh/every5s',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { suspend: true } }),
  ]);
  await eventually(
    'the scheduled validation is Suspended',
    async () => (await status('every5s')).phase === 'Suspended',
  );
  const suspended = await status('every5s');
  assert.equal(suspended.nextScheduleTime, undefined);
  const scheduledPasses = (suspended.history ?? []).filter((h) => h.phase === 'Succeeded').length;
  await new Promise((r) => setTimeout(r, 6000));
  assert.equal(
    (await status('every5s')).lastScheduleTime,
    suspended.lastScheduleTime,
    'no run while suspended',
  );

  // An Event per transition.
  const events = (
    await admin.getJson<{ items: { reason: string; regarding: { name: string } }[] }>([
      '-n',
      watched,
      'events.events.k8s.io',
    ])
  ).items;
  const reasons = (name: string) => events.filter((e) => e.regarding.name === name).map((e) => e.reason);
  assert.ok(
    reasons('passing').includes('Started') && reasons('passing').includes('Passed'),
    reasons('passing').join(),
  );
  assert.ok(reasons('failing').includes('Failed'), reasons('failing').join());
  assert.ok(reasons('dangling').includes('Stalled'), reasons('dangling').join());
  assert.ok(reasons('slow').includes('DeadlineExceeded'), reasons('slow').join());
  const scheduledReasons = reasons('every5s');
  for (const reason of ['Scheduled', 'Suspended'])
    assert.ok(scheduledReasons.includes(reason), scheduledReasons.join());
  for (const reason of ['Started', 'Passed'])
    assert.ok(scheduledReasons.filter((r) => r === reason).length >= 2, scheduledReasons.join());

  // Runs by result on the operator's /metrics (its address is in the 'manager started' log line).
  const metricsAddress = /"msg":"manager started".*?"metrics":"([^"]+)"/.exec(operator.output())?.[1];
  const metrics = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  const runs = (result: string) =>
    Number(
      new RegExp(
        `^kafka_backup_runs_total\\{kind="KafkaBackupValidation",result="${result}"\\} (\\d+)$`,
        'm',
      ).exec(metrics)?.[1] ?? 0,
    );
  assert.equal(
    runs('succeeded'),
    3 + scheduledPasses,
    'passing, its rerun, dangling once its KafkaBackup existed, and the scheduled runs',
  );
  // dangling's wait for its KafkaBackup is no run; forbidden's every try is one that failed.
  assert.ok(runs('failed') >= 2, 'failing, and forbidden at least once');
  assert.equal(runs('deadline_exceeded'), 1);
  assert.match(
    metrics,
    new RegExp(
      `^kafka_backup_last_success_timestamp_seconds\\{kind="KafkaBackupValidation",namespace="${watched}",name="passing"\\} \\d`,
      'm',
    ),
  );
  assert.doesNotMatch(metrics, /kafka_backup_operator_validation_runs_total/, 'one family for every kind');
  // A deleted resource takes its series with it.
  await admin.kubectl([
    '-n',
    watched,
    'delete',
    'kafkabackupvalidations.kafka.oso.sh',
    'every5s',
    '--wait=true',
  ]);
  await eventually('the deleted validation has no series', async () => {
    const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    return (
      /kafka_backup_last_success_timestamp_seconds\{[^}]*name="passing"\}/.test(text) &&
      !/kafka_backup_last_success_timestamp_seconds\{[^}]*name="every5s"\}/.test(text)
    );
  });

  // No secret in status, Events, the operator's logs or the stored reports.
  const everything = [
    JSON.stringify(await admin.getJson(['-n', watched, 'kafkabackupvalidations.kafka.oso.sh'])),
    JSON.stringify(events),
    operator.output(),
    ...(await Promise.all(
      ['report.json', 'report.html', 'report.sig'].map(async (f) =>
        new TextDecoder().decode(await store.get(`evidence/nightly/${reportId}/${f}`)),
      ),
    )),
  ].join('\n');
  for (const value of [slackToken, routingKey, s3.secretAccessKey, privatePem.split('\n')[1] ?? 'x']) {
    assert.ok(!everything.includes(value), `a secret leaked (${value.slice(0, 4)}...)`);
  }
  assert.match(operator.output(), /KafkaBackupValidation|validation/i, 'the operator logged');
});
