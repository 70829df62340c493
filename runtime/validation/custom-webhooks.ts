import type { CheckResult, EvidenceReport } from '../evidence/report.ts';

/**
 * `checks.customWebhooks`: the user's own checks. Each webhook gets a JSON POST describing the
 * backup (and the cluster compared, if any) and passes when it answers with its expected status.
 * The URL never reaches the report: it may carry a token.
 */
export interface CustomWebhook {
  readonly name: string;
  readonly url: string;
  /** Default 120 s. */
  readonly timeoutSecs?: number;
  /** Default 200. */
  readonly expectedStatusCode?: number;
}

export interface CustomWebhookContext {
  readonly backup: EvidenceReport['backup'];
  readonly bootstrapServers?: string;
  /** Outcome of the built-in checks so far, so a webhook can decide with them. */
  readonly checks: readonly Pick<CheckResult, 'name' | 'outcome'>[];
  readonly triggeredBy?: string;
}

/** The JSON a custom webhook receives. */
export function customWebhookBody(webhook: CustomWebhook, context: CustomWebhookContext): unknown {
  return {
    event: 'kafka_backup_validation_check',
    check: webhook.name,
    backup: context.backup,
    ...(context.bootstrapServers ? { cluster: { bootstrapServers: context.bootstrapServers } } : {}),
    checks: context.checks.map((c) => ({ name: c.name, outcome: c.outcome })),
    ...(context.triggeredBy ? { triggeredBy: context.triggeredBy } : {}),
  };
}

export async function runCustomWebhook(
  webhook: CustomWebhook,
  context: CustomWebhookContext,
  options: { fetchImpl?: typeof fetch; now?: () => number; signal?: AbortSignal } = {},
): Promise<CheckResult> {
  const now = options.now ?? (() => performance.now());
  const expected = webhook.expectedStatusCode ?? 200;
  const timeoutSecs = webhook.timeoutSecs ?? 120;
  const started = now();
  const durationMs = () => Math.round(now() - started);
  try {
    const response = await (options.fetchImpl ?? fetch)(webhook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(customWebhookBody(webhook, context)),
      signal: options.signal
        ? AbortSignal.any([AbortSignal.timeout(timeoutSecs * 1000), options.signal])
        : AbortSignal.timeout(timeoutSecs * 1000),
      redirect: 'manual',
    });
    await response.body?.cancel();
    const passed = response.status === expected;
    return {
      name: webhook.name,
      outcome: passed ? 'passed' : 'failed',
      summary: passed
        ? `custom webhook answered HTTP ${response.status}`
        : `custom webhook answered HTTP ${response.status}, expected ${expected}`,
      details: { kind: 'custom-webhook', status: response.status, expectedStatusCode: expected },
      durationMs: durationMs(),
    };
  } catch (error) {
    // The run was stopped (deadline, shutdown): that is not this check's outcome.
    options.signal?.throwIfAborted();
    const name = (error as Error).name;
    // Name the failure, never the URL (it may embed a token).
    const why = name === 'TimeoutError' ? `no answer within ${timeoutSecs}s` : `the request failed (${name})`;
    return {
      name: webhook.name,
      outcome: 'failed',
      summary: `custom webhook: ${why}`,
      details: { kind: 'custom-webhook', expectedStatusCode: expected, error: name },
      durationMs: durationMs(),
    };
  }
}
