import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { validate } from '../../../runtime/app/validate.ts';
import { validationConfigFromSpec } from '../../../runtime/config/operations.ts';
import { pagerDutyEvent, slackPayload } from '../../../runtime/evidence/notifications.ts';
import { buildEvidenceReport } from '../../../runtime/evidence/report.ts';
import { pruneEvidence, reportTime } from '../../../runtime/evidence/store.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import { mapSecrets, memoryPorts, storage } from '../app/memory-ports.ts';
import { writeBackup } from './backup-fixture.ts';

/** A local HTTP receiver: records every POST, answers with the status its path names (/status/500). */
class Receiver {
  readonly requests: { path: string; body: Record<string, unknown> }[] = [];
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '', body: JSON.parse(body || '{}') });
        const status = /\/status\/(\d{3})/.exec(req.url ?? '')?.[1];
        res.writeHead(status ? Number(status) : 200).end();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  bodiesAt(path: string): Record<string, unknown>[] {
    return this.requests.filter((r) => r.path.startsWith(path)).map((r) => r.body);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server?.close(() => resolve()));
  }
}

const receiver = new Receiver();
before(() => receiver.start());
after(() => receiver.stop());

const offsets = Array.from({ length: 20 }, (_, i) => BigInt(i));

async function fixture() {
  const store = new MemoryObjectStore();
  await writeBackup(store, 'b1', 'orders', [{ partition: 0, offsets }], { perSegment: 5 });
  const secrets = mapSecrets({
    'slack/url': `${receiver.url}/slack/T000/B000/sl4cks3cr3t`,
    'pd/routing-key': 'pdr0utingk3y0123',
  });
  return { store, ports: memoryPorts({}, { store, secrets }) };
}

const sample = (result: 'passed' | 'failed') =>
  buildEvidenceReport({
    backup: { id: 'b1', storage: 's3://bucket/p' },
    checks: [
      { name: 'segment-integrity', outcome: 'passed', summary: 'ok' },
      ...(result === 'failed'
        ? [{ name: 'my-hook', outcome: 'failed' as const, summary: 'custom webhook answered HTTP 500' }]
        : []),
    ],
    toolVersion: 'test',
    generatedAt: new Date('2026-01-01T00:00:00Z'),
    reportId: 'validation-20260101T000000Z-00000001',
  });

describe('notification payloads', () => {
  test('Slack gets {text, blocks} naming the result, the failed checks and the report', () => {
    const p = slackPayload(sample('failed'), {
      source: 'KafkaBackupValidation ns/v',
      reportKey: 'evidence/b1/r/report.json',
    });
    assert.match(
      p.text,
      /^Backup validation FAILED: b1 \(KafkaBackupValidation ns\/v\); failed checks: my-hook$/,
    );
    const text = JSON.stringify(p.blocks);
    assert.match(text, /evidence\/b1\/r\/report\.json/);
    assert.match(text, /\*my-hook\*: custom webhook answered HTTP 500/);
  });

  test('PagerDuty Events v2: trigger on failure, resolve on success with the same dedup key, nothing for warnings', () => {
    const target = { routingKey: 'rk', severity: 'error' as const };
    const trigger = pagerDutyEvent(sample('failed'), { source: 'KafkaBackupValidation ns/v' }, target);
    assert.deepEqual(
      { ...trigger, payload: { ...(trigger?.payload as object), custom_details: undefined } },
      {
        routing_key: 'rk',
        event_action: 'trigger',
        dedup_key: 'kafka-backup-validation/KafkaBackupValidation ns/v',
        payload: {
          summary: 'Backup validation FAILED: b1 (KafkaBackupValidation ns/v); failed checks: my-hook',
          severity: 'error',
          source: 'KafkaBackupValidation ns/v',
          component: 'kafka-backup',
          custom_details: undefined,
        },
      },
    );
    const resolve = pagerDutyEvent(sample('passed'), { source: 'KafkaBackupValidation ns/v' }, target);
    assert.deepEqual(resolve, { routing_key: 'rk', event_action: 'resolve', dedup_key: trigger?.dedup_key });
    const warning = {
      ...sample('passed'),
      summary: { ...sample('passed').summary, result: 'warning' as const },
    };
    assert.equal(pagerDutyEvent(warning, { source: 's' }, target), undefined);
  });
});

describe('evidence retention', () => {
  test('reports older than retentionDays are deleted whole, newer ones and foreign objects kept', async () => {
    const store = new MemoryObjectStore();
    const put = (k: string) => store.put(k, new Uint8Array([1]));
    const old = 'validation-20250101T000000Z-aaaaaaaa';
    const recent = 'validation-20251225T000000Z-bbbbbbbb';
    for (const id of [old, recent]) {
      for (const f of ['report.json', 'report.html', 'report.sig']) await put(`evidence/b1/${id}/${f}`);
    }
    await put('evidence/b1/notes.txt');
    await put(`evidence/b2/${old}/report.json`);
    const deleted = await pruneEvidence(store, 'b1', 30, new Date('2026-01-01T00:00:00Z'));
    assert.deepEqual(deleted, [old]);
    const left: string[] = [];
    for await (const o of store.list('evidence/')) left.push(o.key);
    assert.deepEqual(left, [
      'evidence/b1/notes.txt',
      `evidence/b1/${recent}/report.html`,
      `evidence/b1/${recent}/report.json`,
      `evidence/b1/${recent}/report.sig`,
      `evidence/b2/${old}/report.json`,
    ]);
    assert.equal(reportTime(recent), Date.UTC(2025, 11, 25));
    assert.equal(reportTime('something-else'), undefined);
  });
});

describe('validation spec fields', () => {
  test('customWebhooks, formats, retentionDays, notifications and integrity.enabled are read; bad ones refused', async () => {
    const secrets = mapSecrets({ 'slack/url': 'https://hooks.slack.test/x', 'pd/rk': 'routing' });
    const config = await validationConfigFromSpec(
      {
        backupRef: { name: 'n', backupId: 'b1', storage },
        checks: {
          messageCount: { enabled: false },
          offsetRange: { enabled: false },
          consumerGroupOffsets: { enabled: false },
          customWebhooks: [{ name: 'hook', url: 'http://127.0.0.1:1/x', expectedStatusCode: 204 }],
        },
        evidence: { formats: ['json'], retentionDays: 7 },
        notifications: {
          slack: { webhookSecret: { name: 'slack', key: 'url' } },
          pagerduty: { routingKeySecret: { name: 'pd', key: 'rk' }, severity: 'warning' },
        },
      },
      secrets,
      { source: 'test' },
    );
    assert.equal(config.integrity, false, 'checks given without integrity: integrity is off (CRD default)');
    assert.deepEqual(config.customWebhooks, [
      { name: 'hook', url: 'http://127.0.0.1:1/x', expectedStatusCode: 204 },
    ]);
    assert.deepEqual(config.evidenceFormats, ['json']);
    assert.equal(config.retentionDays, 7);
    assert.deepEqual(config.notifications, {
      slack: { webhookUrl: 'https://hooks.slack.test/x' },
      pagerduty: {
        routingKey: 'routing',
        severity: 'warning',
        eventsUrl: 'https://events.pagerduty.com/v2/enqueue',
      },
    });
    const bad = await validationConfigFromSpec(
      {
        backupRef: { name: 'n', backupId: 'b1', storage },
        checks: { customWebhooks: [{ name: 'h', url: 'ftp://x' }], integrity: { deep: true } },
        evidence: { formats: ['pdf'] },
        notifications: { slack: { webhookSecret: { name: 'missing', key: 'url' } } },
      },
      secrets,
      { source: 'test' },
    ).catch((e: Error) => e.message);
    assert.match(String(bad), /customWebhooks\[0\]\.url: expected an http/);
    assert.match(String(bad), /integrity\.deep: deep is set but the integrity check is disabled/);
    assert.match(String(bad), /'pdf' is not a format/);
    assert.match(String(bad), /json is required/);
    assert.match(String(bad), /notifications\.slack\.webhookSecret/);
  });
});

describe('validate with custom webhooks and notifications', () => {
  test('a webhook answering the expected status passes, another fails the run by name; Slack and PagerDuty are told; secrets stay out of the report', async () => {
    const { store, ports } = await fixture();
    const oldReport = 'validation-20200101T000000Z-cccccccc';
    await store.put(`evidence/b1/${oldReport}/report.json`, new Uint8Array([1]));
    const result = await validate(
      {
        backupRef: { name: 'n', backupId: 'b1', storage },
        checks: {
          messageCount: { enabled: false },
          offsetRange: { enabled: false },
          consumerGroupOffsets: { enabled: false },
          customWebhooks: [
            { name: 'good-hook', url: `${receiver.url}/hooks/good/status/204`, expectedStatusCode: 204 },
            { name: 'bad-hook', url: `${receiver.url}/hooks/bad/status/500` },
          ],
        },
        evidence: { formats: ['json'], retentionDays: 30 },
        notifications: {
          slack: { webhookSecret: { name: 'slack', key: 'url' } },
          pagerduty: {
            routingKeySecret: { name: 'pd', key: 'routing-key' },
            eventsUrl: `${receiver.url}/pagerduty/v2/enqueue`,
          },
        },
      },
      ports,
      { toolVersion: 'test', notificationSource: 'KafkaBackupValidation ns/v' },
    );
    const outcomes = Object.fromEntries(result.report.checks.map((c) => [c.name, c.outcome]));
    assert.equal(outcomes['good-hook'], 'passed');
    assert.equal(outcomes['bad-hook'], 'failed');
    assert.equal(outcomes['segment-integrity'], 'skipped', 'integrity.enabled absent: no segment read');
    assert.equal(result.failure, 'checks-failed');
    const hookBody = receiver.bodiesAt('/hooks/good')[0];
    assert.equal(hookBody?.check, 'good-hook');
    assert.deepEqual((hookBody?.backup as { id?: string } | undefined)?.id, 'b1');
    assert.equal(result.keys?.html, undefined, 'formats: [json] stores no HTML');
    assert.ok(await store.head(result.keys?.json ?? ''));
    assert.deepEqual(result.pruned, [oldReport]);
    const slack = receiver.bodiesAt('/slack')[0];
    assert.match(String(slack?.text), /FAILED.*failed checks: bad-hook/);
    const pd = receiver.bodiesAt('/pagerduty')[0];
    assert.equal(pd?.routing_key, 'pdr0utingk3y0123');
    assert.equal(pd?.event_action, 'trigger');
    assert.equal((pd?.payload as { severity?: string } | undefined)?.severity, 'critical');
    const stored = new TextDecoder().decode(await store.get(result.keys?.json ?? ''));
    for (const secret of ['sl4cks3cr3t', 'pdr0utingk3y0123', '/hooks/']) {
      assert.ok(!stored.includes(secret), `${secret} must not be in the report`);
      assert.ok(!result.text.includes(secret));
    }
  });

  test('integrity.enabled reads the segments; a webhook that does not answer in time fails', async () => {
    const { ports } = await fixture();
    const slow = createServer(() => {});
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const result = await validate(
        {
          backupRef: { name: 'n', backupId: 'b1', storage },
          checks: {
            messageCount: { enabled: false },
            offsetRange: { enabled: false },
            consumerGroupOffsets: { enabled: false },
            integrity: { enabled: true },
            customWebhooks: [
              {
                name: 'slow',
                url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`,
                timeoutSecs: 1,
              },
            ],
          },
        },
        ports,
        { toolVersion: 'test', noStore: true },
      );
      const byName = new Map(result.report.checks.map((c) => [c.name, c]));
      assert.equal(byName.get('segment-integrity')?.outcome, 'passed');
      assert.equal(byName.get('slow')?.outcome, 'failed');
      assert.match(byName.get('slow')?.summary ?? '', /no answer within 1s/);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });

  test('aborting the run cancels a webhook call in flight and rejects with the reason', async () => {
    const { ports } = await fixture();
    const hang = createServer(() => {});
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    const controller = new AbortController();
    const reason = new Error('deadline');
    try {
      const run = validate(
        {
          backupRef: { name: 'n', backupId: 'b1', storage },
          checks: {
            messageCount: { enabled: false },
            offsetRange: { enabled: false },
            consumerGroupOffsets: { enabled: false },
            customWebhooks: [
              { name: 'hang', url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/` },
            ],
          },
        },
        ports,
        { toolVersion: 'test', noStore: true, signal: controller.signal },
      );
      setTimeout(() => controller.abort(reason), 200);
      const started = Date.now();
      await assert.rejects(run, (e) => e === reason);
      assert.ok(Date.now() - started < 5_000, 'not the 120 s webhook timeout');
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });
});
