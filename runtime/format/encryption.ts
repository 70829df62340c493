import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { EncryptionKeyError } from './errors.ts';
import type { EncryptionKey } from './types.ts';

export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;

export function checkKey(key: EncryptionKey): Uint8Array {
  if (!(key.key instanceof Uint8Array) || key.key.length !== 32) {
    throw new EncryptionKeyError(
      `an AES-256-GCM key must be exactly 32 bytes, got ${key.key?.length ?? 0}; ` +
        'generate one with `openssl rand 32` and store it in the referenced Secret',
    );
  }
  return key.key;
}

/** Identifies a key without revealing it (HMAC of a constant), so a wrong key is told apart from damage. */
export function keyId(key: EncryptionKey): string {
  return createHmac('sha256', checkKey(key)).update('kafka-backup key id v1').digest('hex').slice(0, 16);
}

export function randomNonce(): Uint8Array {
  return randomBytes(NONCE_LENGTH);
}

/** Returns ciphertext || 16-byte tag; `aad` (the segment header) is authenticated, not encrypted. */
export function encrypt(
  key: EncryptionKey,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Buffer {
  const cipher = createCipheriv('aes-256-gcm', checkKey(key), nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([head, tail, cipher.getAuthTag()]);
}

/** Throws when the tag does not authenticate (wrong key or altered bytes). */
export function decrypt(key: EncryptionKey, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < TAG_LENGTH) throw new RangeError('encrypted payload shorter than its tag');
  const decipher = createDecipheriv('aes-256-gcm', checkKey(key), nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  const head = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
  return Buffer.concat([head, decipher.final()]);
}
