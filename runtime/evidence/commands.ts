import { readFile } from 'node:fs/promises';
import { type ObjectStore, StorageError } from '../storage/object-store.ts';
import { loadPublicKey, type SigningKeySource } from './signing.ts';
import { type EvidenceVerification, evidenceKeys, verifyEvidence } from './store.ts';

/**
 * Handler of `kafka-backup evidence verify`: checks a report against its detached signature with a
 * trusted public key (never the key inside the signature file), and the HTML rendering when present.
 * `failure: 'signature-invalid'` unless everything verifies.
 */
/** The report (or the storage object) named does not exist. */
export class EvidenceNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvidenceNotFoundError';
  }
}

export type EvidenceLocation =
  /** Local files, e.g. downloaded from the bucket; `sig` and `html` default to siblings of `json`. */
  | { readonly kind: 'files'; readonly json: string; readonly sig?: string; readonly html?: string }
  /** The predictable keys in the storage. */
  | { readonly kind: 'storage'; readonly backupId: string; readonly reportId: string };

export interface EvidenceVerifyOptions {
  readonly location: EvidenceLocation;
  readonly publicKey: SigningKeySource;
  /** Also require the HTML rendering to be present (default: verify it when it exists). */
  readonly requireHtml?: boolean;
}

export async function runEvidenceVerify(
  options: EvidenceVerifyOptions,
  deps: { store?: ObjectStore } = {},
): Promise<{
  failure?: 'signature-invalid';
  text: string;
  json: unknown;
  verification: EvidenceVerification;
}> {
  const { json, sig, html } = await readArtifacts(options.location, deps.store);
  const problems: string[] = [];
  if (options.requireHtml && !html) problems.push('the HTML report is missing');
  const verification = verifyEvidence({
    json,
    signature: sig,
    ...(html ? { html } : {}),
    publicKey: await loadPublicKey(options.publicKey),
  });
  const all = [...verification.problems, ...problems];
  const valid = all.length === 0;
  const text = valid
    ? `VERIFIED: report ${verification.reportId} (result ${verification.result}) is signed by ${verification.keyId}` +
      `${html ? '; the HTML rendering matches' : ''}`
    : `NOT VERIFIED: ${all.join('; ')}`;
  return {
    ...(valid ? {} : { failure: 'signature-invalid' as const }),
    text,
    json: { ...verification, valid, problems: all },
    verification,
  };
}

async function readArtifacts(
  location: EvidenceLocation,
  store: ObjectStore | undefined,
): Promise<{ json: Uint8Array; sig: Uint8Array | undefined; html: Uint8Array | undefined }> {
  if (location.kind === 'files') {
    const base = location.json.replace(/\.json$/, '');
    const json = await readFile(location.json).catch((e: Error) => {
      throw new EvidenceNotFoundError(`cannot read the report ${location.json}: ${e.message}`);
    });
    return {
      json,
      sig: await readFile(location.sig ?? `${base}.sig`).catch(() => undefined),
      html: await readFile(location.html ?? `${base}.html`).catch(() => undefined),
    };
  }
  if (!store) throw new Error('reading a report from storage needs the storage to be configured');
  const keys = evidenceKeys(location.backupId, location.reportId);
  const get = async (key: string) => {
    try {
      return await store.get(key);
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not-found') return undefined;
      throw e;
    }
  };
  const json = await get(keys.json);
  if (!json) {
    throw new EvidenceNotFoundError(
      `no evidence report at ${store.description}/${keys.json}: check the backup and report ids`,
    );
  }
  return { json, sig: await get(keys.sig), html: await get(keys.html) };
}
