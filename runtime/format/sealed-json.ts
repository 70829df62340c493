import { createHash } from 'node:crypto';
import { CorruptObjectError } from './errors.ts';

/**
 * JSON objects of a v1 backup (descriptor, commits, snapshots, documents) carry their own SHA-256
 * over their exact bytes, so a damaged commit is named as such instead of passing as other values
 * (docs/format/v1.md §5). The file is still plain JSON:
 *   {"sha256":"<64 hex>","body":<body>}\n
 * where the digest covers the bytes of <body> exactly as stored; no canonical form is needed.
 */

const PREFIX = '{"sha256":"';
const MIDDLE = '","body":';
const SUFFIX = '}\n';
const BODY_START = PREFIX.length + 64 + MIDDLE.length;

export function sealJson(value: unknown): Uint8Array {
  const body = Buffer.from(
    JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2),
    'utf8',
  );
  const digest = createHash('sha256').update(body).digest('hex');
  return Buffer.concat([
    Buffer.from(PREFIX + digest + MIDDLE, 'latin1'),
    body,
    Buffer.from(SUFFIX, 'latin1'),
  ]);
}

export function openSealedJson(key: string, bytes: Uint8Array): unknown {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    b.length < BODY_START + SUFFIX.length ||
    b.toString('latin1', 0, PREFIX.length) !== PREFIX ||
    b.toString('latin1', PREFIX.length + 64, BODY_START) !== MIDDLE ||
    b.toString('latin1', b.length - SUFFIX.length) !== SUFFIX
  ) {
    throw new CorruptObjectError(key, 'not a checksummed JSON object (truncated or damaged)');
  }
  const digest = b.toString('latin1', PREFIX.length, PREFIX.length + 64);
  const body = b.subarray(BODY_START, b.length - SUFFIX.length);
  if (createHash('sha256').update(body).digest('hex') !== digest) {
    throw new CorruptObjectError(key, 'SHA-256 of its content does not match the one it carries');
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new CorruptObjectError(key, 'content is not valid JSON', { cause });
  }
}
