import type { EvidenceReport } from './report.ts';

/**
 * Optional notification after a report is stored. It carries the outcome and where the report is,
 * never the report's details. A failed delivery is returned, not thrown: the evidence is already
 * stored and the validation result must not change because a webhook is down.
 */
export interface WebhookResult {
  readonly delivered: boolean;
  readonly status?: number;
  readonly error?: string;
}

export async function notifyWebhook(
  url: string,
  report: EvidenceReport,
  reportKey: string,
  options: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): Promise<WebhookResult> {
  const body = {
    event: 'kafka_backup_validation',
    reportId: report.reportId,
    backupId: report.backup.id,
    result: report.summary.result,
    summary: report.summary,
    failedChecks: report.checks.filter((c) => c.outcome === 'failed').map((c) => c.name),
    reportKey,
    generatedAt: report.generatedAt,
  };
  try {
    const response = await (options.fetchImpl ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    return response.ok
      ? { delivered: true, status: response.status }
      : { delivered: false, status: response.status, error: `webhook answered HTTP ${response.status}` };
  } catch (error) {
    // The URL may embed a token: name the failure, not the URL.
    return { delivered: false, error: `webhook delivery failed: ${(error as Error).name}` };
  }
}
