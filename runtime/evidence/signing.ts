import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';

/**
 * Detached signatures over a report's exact bytes. Ed25519 is the default; ECDSA P-256 (SHA-256) is
 * accepted for users whose key management only offers it. The key id is derived from the public key,
 * so a verifier can tell which key signed without trusting anything inside the signature file.
 */
export type SignatureAlgorithm = 'Ed25519' | 'ECDSA-P256-SHA256';

export interface SigningKey {
  readonly algorithm: SignatureAlgorithm;
  /** `sha256:` + hex of the DER SubjectPublicKeyInfo. */
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

/** The detached signature document stored next to a report (`report.sig`). */
export interface SignatureDocument {
  readonly format: 'kafka-backup.oso.sh/evidence-signature/v1';
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: string;
  /** The signer's public key (SPKI PEM), for convenience only: verification pins a trusted key. */
  readonly publicKey: string;
  readonly reportSha256: string;
  /** base64 signature over the report's exact bytes. */
  readonly signature: string;
}

export class SigningKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyError';
  }
}

/** Where the private key comes from: PEM content (e.g. a Kubernetes Secret's value) or a file. */
export type SigningKeySource = { readonly pem: string } | { readonly file: string };

export async function loadSigningKey(source: SigningKeySource): Promise<SigningKey> {
  let pem: string;
  let origin: string;
  if ('file' in source) {
    origin = `file ${source.file}`;
    try {
      pem = await readFile(source.file, 'utf8');
    } catch (error) {
      throw new SigningKeyError(`cannot read the signing key ${origin}: ${(error as Error).message}`);
    }
  } else {
    origin = 'the provided secret';
    pem = source.pem;
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // Never echo the key material in the error.
    throw new SigningKeyError(
      `the signing key from ${origin} is not a PEM private key (expected PKCS#8 "BEGIN PRIVATE KEY"; ` +
        'create one with `openssl genpkey -algorithm ed25519`)',
    );
  }
  const algorithm = algorithmOf(privateKey, origin);
  const publicKey = createPublicKey(privateKey);
  return {
    algorithm,
    keyId: keyIdOf(publicKey),
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Loads a trusted public key (SPKI PEM, or a private key from which it is derived). */
export async function loadPublicKey(source: SigningKeySource): Promise<KeyObject> {
  let pem: string;
  try {
    pem = 'file' in source ? await readFile(source.file, 'utf8') : source.pem;
  } catch (error) {
    throw new SigningKeyError(`cannot read the public key: ${(error as Error).message}`);
  }
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new SigningKeyError(
      `the public key from ${'file' in source ? `file ${source.file}` : 'the provided value'} is not a PEM public key`,
    );
  }
}

function algorithmOf(key: KeyObject, origin: string): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ECDSA-P256-SHA256';
  }
  throw new SigningKeyError(
    `the signing key from ${origin} is a ${key.asymmetricKeyType} key; use Ed25519 (recommended) or ECDSA P-256`,
  );
}

export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function signBytes(bytes: Uint8Array, key: SigningKey): SignatureDocument {
  const signature =
    key.algorithm === 'Ed25519'
      ? cryptoSign(null, bytes, key.privateKey)
      : cryptoSign('sha256', bytes, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return {
    format: 'kafka-backup.oso.sh/evidence-signature/v1',
    algorithm: key.algorithm,
    keyId: key.keyId,
    publicKey: key.publicKeyPem,
    reportSha256: sha256Hex(bytes),
    signature: signature.toString('base64'),
  };
}

/** The one form a signature file is written in (fixed member order, 2-space indent, final newline). */
export function serializeSignature(doc: SignatureDocument): string {
  const { format, algorithm, keyId, publicKey, reportSha256, signature } = doc;
  return `${JSON.stringify({ format, algorithm, keyId, publicKey, reportSha256, signature }, null, 2)}\n`;
}

export interface VerificationResult {
  readonly valid: boolean;
  /** Every reason the verification failed; empty when valid. */
  readonly problems: readonly string[];
  readonly keyId?: string;
  readonly algorithm?: SignatureAlgorithm;
}

/**
 * Verifies a report's bytes against its signature document with a trusted public key. The key in the
 * signature document is never trusted: anyone who can rewrite the report can also rewrite that.
 */
export function verifyBytes(
  bytes: Uint8Array,
  signatureJson: string,
  trustedKey: KeyObject,
): VerificationResult {
  const problems: string[] = [];
  let doc: Partial<SignatureDocument>;
  try {
    doc = JSON.parse(signatureJson) as Partial<SignatureDocument>;
  } catch {
    return { valid: false, problems: ['the signature file is not valid JSON'] };
  }
  if (doc.format !== 'kafka-backup.oso.sh/evidence-signature/v1') problems.push('unknown signature format');
  // The file is written in one exact form, so a change to any of its bytes is detected too.
  if (serializeSignature(doc as SignatureDocument) !== signatureJson)
    problems.push('the signature file was altered');
  if (typeof doc.publicKey === 'string') {
    try {
      const named = createPublicKey(doc.publicKey);
      if (keyIdOf(named) !== doc.keyId) problems.push('the signature file names a different key');
      // PEM decoding is lenient (it ignores some bit changes); only the canonical export is accepted.
      else if (named.export({ type: 'spki', format: 'pem' }).toString() !== doc.publicKey)
        problems.push('the public key in the signature file is not in its canonical form: it was altered');
    } catch {
      problems.push('the public key in the signature file is malformed');
    }
  }
  const trustedId = keyIdOf(trustedKey);
  if (doc.keyId !== trustedId) {
    problems.push(`signed by key ${String(doc.keyId)}, but the trusted key is ${trustedId}`);
  }
  if (doc.reportSha256 !== sha256Hex(bytes))
    problems.push('the report does not match the SHA-256 in its signature');
  const algorithm = doc.algorithm;
  const expected = trustedKey.asymmetricKeyType === 'ed25519' ? 'Ed25519' : 'ECDSA-P256-SHA256';
  if (algorithm !== expected)
    problems.push(`signature algorithm ${String(algorithm)} does not match the trusted key`);
  else if (typeof doc.signature !== 'string') problems.push('the signature is missing');
  else {
    const signature = Buffer.from(doc.signature, 'base64');
    // Lenient base64 decoding ignores some bit changes; only the canonical encoding is accepted.
    if (signature.toString('base64') !== doc.signature)
      problems.push('the signature is not canonical base64');
    const ok =
      algorithm === 'Ed25519'
        ? cryptoVerify(null, bytes, trustedKey, signature)
        : cryptoVerify('sha256', bytes, { key: trustedKey, dsaEncoding: 'ieee-p1363' }, signature);
    if (!ok) problems.push('the signature does not verify: the report or the signature was altered');
  }
  return {
    valid: problems.length === 0,
    problems,
    ...(typeof doc.keyId === 'string' ? { keyId: doc.keyId } : {}),
    ...(algorithm ? { algorithm } : {}),
  };
}
