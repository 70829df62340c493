import type { EvidenceReport } from './report.ts';

/**
 * `notifications`: the outcome of a validation run sent to Slack (incoming webhook) and PagerDuty
 * (Events API v2). Messages carry the outcome, the failed checks and where the report is; never
 * the report's details, never a secret. Delivery failures are returned, not thrown: the evidence
 * is already stored and the validation result must not depend on a chat service.
 */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

export interface NotificationTargets {
  /** The Slack incoming-webhook URL (from its Secret). */
  readonly slack?: { readonly webhookUrl: string };
  readonly pagerduty?: {
    /** The integration's routing key (from its Secret). */
    readonly routingKey: string;
    readonly severity: PagerDutySeverity;
    /** Default PAGERDUTY_EVENTS_URL. */
    readonly eventsUrl?: string;
  };
}

/** What the message says about the run besides the report: who ran it and where the report is. */
export interface NotificationContext {
  /** e.g. `KafkaBackupValidation team-a/nightly-check`, or `kafka-backup validate`. */
  readonly source: string;
  readonly reportKey?: string;
}

export interface DeliveryResult {
  readonly target: 'slack' | 'pagerduty';
  readonly delivered: boolean;
  readonly status?: number;
  readonly error?: string;
  /** PagerDuty is only told about failures (and their resolution); nothing to send otherwise. */
  readonly skipped?: boolean;
}

const failedChecks = (report: EvidenceReport) =>
  report.checks.filter((c) => c.outcome === 'failed').map((c) => c.name);

export function summaryLine(report: EvidenceReport, context: NotificationContext): string {
  const failed = failedChecks(report);
  const result = report.summary.result.toUpperCase();
  return (
    `Backup validation ${result}: ${report.backup.id} (${context.source})` +
    (failed.length > 0 ? `; failed checks: ${failed.join(', ')}` : '')
  );
}

/** A Slack incoming-webhook message: `text` for notifications, `blocks` for the channel. */
export function slackPayload(
  report: EvidenceReport,
  context: NotificationContext,
): {
  text: string;
  blocks: unknown[];
} {
  const s = report.summary;
  const fields = [
    `*Result:* ${s.result}`,
    `*Checks:* ${s.passed} passed, ${s.failed} failed, ${s.warnings} warnings, ${s.skipped} skipped`,
    `*Backup:* ${report.backup.id}`,
    `*Report:* ${context.reportKey ?? 'not stored'}`,
  ];
  const failed = report.checks.filter((c) => c.outcome === 'failed');
  return {
    text: summaryLine(report, context),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: summaryLine(report, context) } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
      ...(failed.length > 0
        ? [
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text: failed
                  .slice(0, 10)
                  .map((c) => `• *${c.name}*: ${c.summary}`)
                  .join('\n')
                  .slice(0, 2900),
              },
            },
          ]
        : []),
    ],
  };
}

/**
 * A PagerDuty Events API v2 event: `trigger` when the run failed, `resolve` when it passed, with
 * one dedup key per validated source so a passing run closes the incident a failing one opened.
 * Undefined when there is nothing to say (a run with warnings only).
 */
export function pagerDutyEvent(
  report: EvidenceReport,
  context: NotificationContext,
  target: { readonly routingKey: string; readonly severity: PagerDutySeverity },
): Record<string, unknown> | undefined {
  const result = report.summary.result;
  if (result === 'warning') return undefined;
  const dedupKey = `kafka-backup-validation/${context.source}`.slice(0, 255);
  if (result === 'passed') {
    return { routing_key: target.routingKey, event_action: 'resolve', dedup_key: dedupKey };
  }
  return {
    routing_key: target.routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: summaryLine(report, context).slice(0, 1024),
      severity: target.severity,
      source: context.source,
      component: 'kafka-backup',
      custom_details: {
        backupId: report.backup.id,
        reportId: report.reportId,
        failedChecks: failedChecks(report),
        ...(context.reportKey ? { reportKey: context.reportKey } : {}),
      },
    },
  };
}

async function postJson(
  target: DeliveryResult['target'],
  url: string,
  body: unknown,
  options: { timeoutMs?: number; fetchImpl?: typeof fetch },
): Promise<DeliveryResult> {
  try {
    const response = await (options.fetchImpl ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    await response.body?.cancel();
    return response.ok
      ? { target, delivered: true, status: response.status }
      : { target, delivered: false, status: response.status, error: `answered HTTP ${response.status}` };
  } catch (error) {
    // The Slack URL is itself a secret: name the failure, not the URL.
    return { target, delivered: false, error: `delivery failed: ${(error as Error).name}` };
  }
}

/** Sends to every configured target; one failing does not stop the other. */
export async function sendNotifications(
  report: EvidenceReport,
  context: NotificationContext,
  targets: NotificationTargets,
  options: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): Promise<DeliveryResult[]> {
  const sends: Promise<DeliveryResult>[] = [];
  if (targets.slack) {
    sends.push(postJson('slack', targets.slack.webhookUrl, slackPayload(report, context), options));
  }
  if (targets.pagerduty) {
    const pd = targets.pagerduty;
    const event = pagerDutyEvent(report, context, pd);
    sends.push(
      event
        ? postJson('pagerduty', pd.eventsUrl ?? PAGERDUTY_EVENTS_URL, event, options)
        : Promise.resolve({ target: 'pagerduty', delivered: false, skipped: true }),
    );
  }
  return Promise.all(sends);
}
