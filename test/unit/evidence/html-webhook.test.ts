import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { renderEvidenceHtml } from '../../../runtime/evidence/html.ts';
import { buildEvidenceReport } from '../../../runtime/evidence/report.ts';
import { notifyWebhook } from '../../../runtime/evidence/webhook.ts';

const report = buildEvidenceReport({
  backup: { id: 'b<script>alert(1)</script>', storage: 'file:///x' },
  checks: [
    {
      name: 'segment-integrity',
      outcome: 'failed',
      summary: 'object "</td><img src=x onerror=alert(1)>" is corrupt',
    },
  ],
  toolVersion: '0.1.0',
  generatedAt: new Date('2026-01-01T00:00:00Z'),
  reportId: 'validation-1',
});

describe('HTML report', () => {
  test('escapes every value taken from the backup, and carries no script', () => {
    const html = renderEvidenceHtml(report);
    assert.ok(!html.includes('<script>'), 'a topic or backup name must not inject markup');
    assert.ok(!html.includes('<img'));
    assert.match(html, /&lt;script&gt;/);
    assert.match(html, /Backup validation: FAILED/);
  });
});

describe('webhook', () => {
  test('posts the outcome and location only; a failing endpoint is reported, not thrown', async () => {
    const bodies: unknown[] = [];
    let status = 204;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=s3cr3t`;
    try {
      assert.deepEqual(await notifyWebhook(url, report, 'evidence/b/validation-1/report.json'), {
        delivered: true,
        status: 204,
      });
      const body = bodies[0] as Record<string, unknown>;
      assert.equal(body.result, 'failed');
      assert.deepEqual(body.failedChecks, ['segment-integrity']);
      assert.equal(body.reportKey, 'evidence/b/validation-1/report.json');
      assert.ok(!('checks' in body), 'details stay in the report');
      status = 500;
      const failed = await notifyWebhook(url, report, 'k');
      assert.equal(failed.delivered, false);
      assert.equal(failed.status, 500);
    } finally {
      server.close();
    }
    const unreachable = await notifyWebhook(url, report, 'k', { timeoutMs: 2000 });
    assert.equal(unreachable.delivered, false);
    assert.ok(!unreachable.error?.includes('s3cr3t'), 'the URL (and its token) is never echoed');
  });
});
