import { randomBytes } from 'node:crypto';
import { redactText } from './redact.ts';

/**
 * The evidence report of one validation run: what was checked, when, against which backup, with which
 * result. Schema documented in docs/evidence.md; `schemaVersion` changes on incompatible changes.
 */
export const EVIDENCE_SCHEMA_VERSION = 'kafka-backup.oso.sh/evidence/v1';

export type CheckOutcome = 'passed' | 'failed' | 'warning' | 'skipped';
export type OverallResult = 'passed' | 'failed' | 'warning';

export interface CheckResult {
  /** Stable identifier, e.g. `segment-checksums`. */
  readonly name: string;
  readonly outcome: CheckOutcome;
  /** One sentence a human can act on. */
  readonly summary: string;
  /** Machine-readable facts: counts, the failing objects or partitions, the gaps and their causes. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly durationMs?: number;
}

export interface EvidenceReport {
  readonly schemaVersion: typeof EVIDENCE_SCHEMA_VERSION;
  readonly reportId: string;
  /** RFC 3339, UTC. */
  readonly generatedAt: string;
  readonly tool: { readonly name: 'kafka-backup'; readonly version: string };
  readonly backup: {
    readonly id: string;
    /** Where the backup lives, without credentials (e.g. `s3://bucket/prefix`). */
    readonly storage: string;
    readonly createdAt?: string;
    readonly topics?: number;
    readonly partitions?: number;
    readonly segments?: number;
    readonly records?: string;
    readonly bytes?: string;
    /** SHA-256 of the manifest bytes as stored. */
    readonly manifestSha256?: string;
  };
  /** The cluster the restore check or watermark check talked to (bootstrap servers only). */
  readonly cluster?: { readonly bootstrapServers: string };
  readonly checks: readonly CheckResult[];
  readonly summary: {
    readonly result: OverallResult;
    readonly total: number;
    readonly passed: number;
    readonly failed: number;
    readonly warnings: number;
    readonly skipped: number;
  };
  readonly triggeredBy?: string;
  /** Which key signs this report; part of the signed bytes so the key id cannot be swapped. */
  readonly signature?: { readonly algorithm: string; readonly keyId: string };
  /** Hashes of the renderings stored with the report, so they are covered by its signature. */
  readonly artifacts?: { readonly html?: { readonly sha256: string } };
}

export interface EvidenceInput {
  readonly backup: EvidenceReport['backup'];
  readonly checks: readonly CheckResult[];
  readonly toolVersion: string;
  readonly bootstrapServers?: string;
  readonly triggeredBy?: string;
  /** Defaults to now. */
  readonly generatedAt?: Date;
  /** Defaults to a fresh id. */
  readonly reportId?: string;
  /**
   * Secret values known to the caller (keys, passwords, tokens). Any of them found in the report
   * is replaced, and the report is checked not to contain them before it is returned.
   */
  readonly secrets?: readonly string[];
}

export function newReportId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `validation-${stamp}-${randomBytes(4).toString('hex')}`;
}

export function overallResult(checks: readonly CheckResult[]): OverallResult {
  if (checks.some((c) => c.outcome === 'failed')) return 'failed';
  if (checks.some((c) => c.outcome === 'warning')) return 'warning';
  if (!checks.some((c) => c.outcome === 'passed')) return 'failed'; // nothing was proven
  return 'passed';
}

export function buildEvidenceReport(input: EvidenceInput): EvidenceReport {
  const at = input.generatedAt ?? new Date();
  const count = (o: CheckOutcome) => input.checks.filter((c) => c.outcome === o).length;
  const report: EvidenceReport = {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    reportId: input.reportId ?? newReportId(at),
    generatedAt: at.toISOString(),
    tool: { name: 'kafka-backup', version: input.toolVersion },
    backup: input.backup,
    ...(input.bootstrapServers ? { cluster: { bootstrapServers: input.bootstrapServers } } : {}),
    checks: input.checks,
    summary: {
      result: overallResult(input.checks),
      total: input.checks.length,
      passed: count('passed'),
      failed: count('failed'),
      warnings: count('warning'),
      skipped: count('skipped'),
    },
    ...(input.triggeredBy ? { triggeredBy: input.triggeredBy } : {}),
  };
  const secrets = input.secrets ?? [];
  const redacted = redactDeep(report, secrets) as EvidenceReport;
  assertNoSecrets(JSON.stringify(redacted), secrets);
  return redacted;
}

/** Every string in the value, redacted (credentials in URLs, signed query strings, known secrets). */
export function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets)]));
  }
  return value;
}

/** Refuses to let a known secret out: a last line of defence, independent of the redaction rules. */
export function assertNoSecrets(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    if (secret.length >= 4 && text.includes(secret)) {
      throw new Error('refusing to write an evidence report that contains a secret value');
    }
  }
}
