/**
 * How a run in a Job reports back: `kafka-backup run` writes one report to the container's
 * termination message file (`terminationMessagePolicy: File`), on success and on failure, and the
 * Job runner reads it from the Pod's status. The kubelet keeps at most 4096 bytes of it, so a report
 * holds what status needs (counts, ids, timestamps, the classified error), gzip-compressed when the
 * JSON alone is too long. Never a Secret value: results and scrubbed messages only.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { scrub } from '../../log.ts';
import type { ReportedError } from './run-errors.ts';

/** What the kubelet keeps of a termination message. */
export const TERMINATION_MESSAGE_LIMIT = 4096;
const GZIP_PREFIX = 'gz:';
const VERSION = 1;

export type RunReport =
  | { readonly v: typeof VERSION; readonly ok: true; readonly result: unknown }
  | { readonly v: typeof VERSION; readonly ok: false; readonly error: ReportedError };

/** The message to write: JSON, else gzip + base64, else (too large even so) a clear failure. */
export function encodeReport(report: RunReport): string {
  // Scrubbed as every log line is: a Secret value registered for redaction never leaves the Pod.
  const json = scrub(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  if (Buffer.byteLength(json) <= TERMINATION_MESSAGE_LIMIT) return json;
  const packed = GZIP_PREFIX + gzipSync(json).toString('base64');
  if (packed.length <= TERMINATION_MESSAGE_LIMIT) return packed;
  const failure: RunReport = {
    v: VERSION,
    ok: false,
    error: {
      class: 'terminal',
      reason: 'Internal',
      exitCode: 1,
      message:
        `the run's ${report.ok ? 'result' : 'error report'} (${json.length} bytes) does not fit the ` +
        `${TERMINATION_MESSAGE_LIMIT}-byte termination message, even compressed; ` +
        (report.ok
          ? 'its work was done, but its outcome cannot be reported'
          : `first: ${report.error.message.slice(0, 2000)}`),
    },
  };
  return JSON.stringify(failure);
}

export class MalformedReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedReportError';
  }
}

/** The report in a termination message; throws MalformedReportError when there is none or it is not ours. */
export function decodeReport(message: string | undefined): RunReport {
  const text = message?.trim();
  if (!text) throw new MalformedReportError('the container left no termination message');
  let json: string;
  try {
    json = text.startsWith(GZIP_PREFIX)
      ? gunzipSync(Buffer.from(text.slice(GZIP_PREFIX.length), 'base64')).toString('utf8')
      : text;
  } catch {
    throw new MalformedReportError('the termination message is not a readable compressed report');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new MalformedReportError(`the termination message is not a run report: ${preview(text)}`);
  }
  const r = parsed as Partial<{ v: unknown; ok: unknown; result: unknown; error: Partial<ReportedError> }>;
  if (r?.v !== VERSION || typeof r.ok !== 'boolean') {
    throw new MalformedReportError(
      `the termination message is not a version ${VERSION} run report: ${preview(text)}`,
    );
  }
  if (r.ok) {
    if (r.result === undefined) throw new MalformedReportError('the run report says ok but has no result');
    return { v: VERSION, ok: true, result: r.result };
  }
  const e = r.error;
  if (
    !e ||
    typeof e.message !== 'string' ||
    typeof e.reason !== 'string' ||
    typeof e.exitCode !== 'number' ||
    (e.class !== 'terminal' && e.class !== 'retriable')
  ) {
    throw new MalformedReportError('the run report says failed but has no classified error');
  }
  return {
    v: VERSION,
    ok: false,
    error: {
      class: e.class,
      reason: e.reason,
      exitCode: e.exitCode,
      message: e.message,
      ...(typeof e.deadlineSeconds === 'number' ? { deadlineSeconds: e.deadlineSeconds } : {}),
    },
  };
}

function preview(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}...` : text);
}
