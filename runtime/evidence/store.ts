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
  readonly html: Uint8Array;
  /** The detached signature document, when a key was given. */
  readonly signature?: Uint8Array;
}

/**
 * Renders the HTML, binds its hash and the signing key id into the report, and signs the report's
 * canonical bytes. Without a key the report is stored unsigned and says so.
 */
export function sealEvidence(
  report: EvidenceReport,
  key?: SigningKey,
  secrets: readonly string[] = [],
): SealedEvidence {
  const withKey: EvidenceReport = key
    ? { ...report, signature: { algorithm: key.algorithm, keyId: key.keyId } }
    : report;
  const html = new TextEncoder().encode(renderEvidenceHtml(withKey));
  const sealed: EvidenceReport = { ...withKey, artifacts: { html: { sha256: sha256Hex(html) } } };
  const text = canonicalJson(sealed);
  assertNoSecrets(text, secrets);
  const json = new TextEncoder().encode(text);
  return {
    report: sealed,
    json,
    html,
    ...(key ? { signature: new TextEncoder().encode(serializeSignature(signBytes(json, key))) } : {}),
  };
}

export async function storeEvidence(
  store: ObjectStore,
  sealed: SealedEvidence,
): Promise<{ json: string; html: string; sig?: string }> {
  const keys = evidenceKeys(sealed.report.backup.id, sealed.report.reportId);
  await store.put(keys.html, sealed.html, { contentType: 'text/html; charset=utf-8' });
  if (sealed.signature) await store.put(keys.sig, sealed.signature, { contentType: 'application/json' });
  // The report goes last: its presence means the set is complete.
  await store.put(keys.json, sealed.json, { contentType: 'application/json' });
  return sealed.signature ? keys : { json: keys.json, html: keys.html };
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
