import type { KeyObject } from 'node:crypto';
import type { ObjectStore } from '../storage/object-store.ts';
import { canonicalJson } from './canonical-json.ts';
import { renderEvidenceHtml } from './html.ts';
import { assertNoSecrets, EVIDENCE_SCHEMA_VERSION, type EvidenceReport } from './report.ts';
import {
  type SigningKey,
  serializeSignature,
  sha256Hex,
  signBytes,
  type VerificationResult,
  verifyBytes,
} from './signing.ts';

/** Predictable keys: `evidence/<backupId>/<reportId>/report.{json,html,sig}`. */
export function evidenceKeys(
  backupId: string,
  reportId: string,
): { json: string; html: string; sig: string } {
  const base = `evidence/${backupId}/${reportId}`;
  return { json: `${base}/report.json`, html: `${base}/report.html`, sig: `${base}/report.sig` };
}

export interface SealedEvidence {
  readonly report: EvidenceReport;
  /** The exact bytes that are stored and signed (canonical JSON). */
  readonly json: Uint8Array;
  /** The HTML rendering, unless the formats asked leave it out. */
  readonly html?: Uint8Array;
  /** The detached signature document, when a key was given. */
  readonly signature?: Uint8Array;
}

/** `evidence.formats`: the signed JSON report always, the HTML rendering when asked (default). */
export type EvidenceFormat = 'json' | 'html';

/**
 * Renders the HTML, binds its hash and the signing key id into the report, and signs the report's
 * canonical bytes. Without a key the report is stored unsigned and says so. Without 'html' in
 * `formats` no rendering is made and the report records none.
 */
export function sealEvidence(
  report: EvidenceReport,
  key?: SigningKey,
  secrets: readonly string[] = [],
  formats: readonly EvidenceFormat[] = ['json', 'html'],
): SealedEvidence {
  const withKey: EvidenceReport = key
    ? { ...report, signature: { algorithm: key.algorithm, keyId: key.keyId } }
    : report;
  const html = formats.includes('html') ? new TextEncoder().encode(renderEvidenceHtml(withKey)) : undefined;
  const sealed: EvidenceReport = html
    ? { ...withKey, artifacts: { html: { sha256: sha256Hex(html) } } }
    : withKey;
  const text = canonicalJson(sealed);
  assertNoSecrets(text, secrets);
  const json = new TextEncoder().encode(text);
  return {
    report: sealed,
    json,
    ...(html ? { html } : {}),
    ...(key ? { signature: new TextEncoder().encode(serializeSignature(signBytes(json, key))) } : {}),
  };
}

/** Where one stored report's files are. */
export interface StoredEvidenceKeys {
  readonly json: string;
  readonly html?: string;
  readonly sig?: string;
}

export async function storeEvidence(store: ObjectStore, sealed: SealedEvidence): Promise<StoredEvidenceKeys> {
  const keys = evidenceKeys(sealed.report.backup.id, sealed.report.reportId);
  if (sealed.html) await store.put(keys.html, sealed.html, { contentType: 'text/html; charset=utf-8' });
  if (sealed.signature) await store.put(keys.sig, sealed.signature, { contentType: 'application/json' });
  // The report goes last: its presence means the set is complete.
  await store.put(keys.json, sealed.json, { contentType: 'application/json' });
  return {
    json: keys.json,
    ...(sealed.html ? { html: keys.html } : {}),
    ...(sealed.signature ? { sig: keys.sig } : {}),
  };
}

/**
 * `evidence.retentionDays`: deletes the reports of one backup older than the retention, judged
 * by the time stamped in their report id (not by object dates, which a copy would reset).
 * Returns the report ids deleted. Objects under evidence/ that are not reports are left alone.
 */
export async function pruneEvidence(
  store: ObjectStore,
  backupId: string,
  retentionDays: number,
  now: Date,
): Promise<string[]> {
  const cutoff = now.getTime() - retentionDays * 86_400_000;
  const prefix = `evidence/${backupId}/`;
  const byReport = new Map<string, string[]>();
  for await (const object of store.list(prefix)) {
    const reportId = object.key.slice(prefix.length).split('/')[0] ?? '';
    const at = reportTime(reportId);
    if (at === undefined || at >= cutoff) continue;
    byReport.set(reportId, [...(byReport.get(reportId) ?? []), object.key]);
  }
  for (const keys of byReport.values()) {
    // The report JSON first: without it the rest is an incomplete set, never mistaken for evidence.
    const ordered = [
      ...keys.filter((k) => k.endsWith('/report.json')),
      ...keys.filter((k) => !k.endsWith('/report.json')),
    ];
    for (const key of ordered) await store.delete(key);
  }
  return [...byReport.keys()];
}

/** The generation time encoded in a report id (`validation-20260101T120000Z-ab12cd34`), in ms. */
export function reportTime(reportId: string): number | undefined {
  const m = /^validation-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]+$/.exec(reportId);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

export interface EvidenceVerification extends VerificationResult {
  readonly reportId?: string;
  readonly result?: string;
}

/**
 * Verifies a stored report: its signature with the trusted public key over the exact bytes, and the
 * HTML rendering against the hash inside the signed report when given.
 */
export function verifyEvidence(input: {
  readonly json: Uint8Array;
  readonly signature: Uint8Array | undefined;
  readonly html?: Uint8Array;
  readonly publicKey: KeyObject;
}): EvidenceVerification {
  if (!input.signature) {
    return {
      valid: false,
      problems: ['the report has no signature file: it was stored unsigned or the .sig was removed'],
    };
  }
  const sig = verifyBytes(input.json, new TextDecoder().decode(input.signature), input.publicKey);
  const problems = [...sig.problems];
  let report: Partial<EvidenceReport> | undefined;
  try {
    report = JSON.parse(new TextDecoder().decode(input.json)) as Partial<EvidenceReport>;
  } catch {
    problems.push('the report is not valid JSON');
  }
  if (report) {
    if (report.schemaVersion !== EVIDENCE_SCHEMA_VERSION)
      problems.push(`unknown schemaVersion ${String(report.schemaVersion)}`);
    if (report.signature?.keyId !== undefined && report.signature.keyId !== sig.keyId) {
      problems.push('the key id inside the report differs from the signature file');
    }
    if (input.html) {
      const expected = report.artifacts?.html?.sha256;
      if (!expected) problems.push('the report records no HTML hash');
      else if (expected !== sha256Hex(input.html))
        problems.push('the HTML report was altered (SHA-256 mismatch)');
    }
  }
  return {
    ...sig,
    valid: problems.length === 0,
    problems,
    ...(report?.reportId ? { reportId: report.reportId } : {}),
    ...(report?.summary?.result ? { result: report.summary.result } : {}),
  };
}
