import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalJson } from '../../../runtime/evidence/canonical-json.ts';
import { redactText } from '../../../runtime/evidence/redact.ts';
import { buildEvidenceReport, type CheckResult } from '../../../runtime/evidence/report.ts';
import { loadPublicKey, loadSigningKey } from '../../../runtime/evidence/signing.ts';
import { evidenceKeys, sealEvidence, verifyEvidence } from '../../../runtime/evidence/store.ts';

function keyPair(type: 'ed25519' | 'ec' = 'ed25519') {
  const { privateKey, publicKey } =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const checks: CheckResult[] = [
  { name: 'segment-checksums', outcome: 'passed', summary: '12 objects verified', details: { objects: 12 } },
  { name: 'record-counts', outcome: 'warning', summary: 'one gap explained by compaction' },
];

function report(extra: { secrets?: string[]; storage?: string } = {}) {
  return buildEvidenceReport({
    backup: { id: 'backup-1', storage: extra.storage ?? 's3://bucket/prefix', records: '1000' },
    checks,
    toolVersion: '0.1.0',
    generatedAt: new Date('2026-01-02T03:04:05Z'),
    reportId: 'validation-test',
    ...(extra.secrets ? { secrets: extra.secrets } : {}),
  });
}

function flip(bytes: Uint8Array, i: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[i] = (copy[i] as number) ^ 0x01;
  return copy;
}

describe('evidence report', () => {
  test('summarises the checks and gives an overall result', () => {
    const r = report();
    assert.deepEqual(r.summary, {
      result: 'warning',
      total: 2,
      passed: 1,
      failed: 0,
      warnings: 1,
      skipped: 0,
    });
    assert.equal(
      buildEvidenceReport({ ...baseInput(), checks: [] }).summary.result,
      'failed',
      'nothing proven',
    );
  });

  test('canonical JSON is independent of key order and keeps big offsets exact', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [2n ** 64n, { d: undefined, c: 'x' }] }),
      '{"a":["18446744073709551616",{"c":"x"}],"b":1}',
    );
    assert.equal(canonicalJson({ x: 1, y: 2 }), canonicalJson({ y: 2, x: 1 }));
  });

  test('never contains secrets: credentials in URLs, SAS tokens, key=value pairs, PEM keys and known values', () => {
    const secret = 'hunter2-super-secret';
    const r = buildEvidenceReport({
      ...baseInput(),
      backup: { id: 'b', storage: `https://acct.blob.core.windows.net/c?sv=2024&sig=abcDEF123%2B&se=2030` },
      bootstrapServers: 'sasl_ssl://alice:pa55word@broker:9093',
      checks: [
        {
          name: 'x',
          outcome: 'failed',
          summary: `connection failed with password=${secret} and secretAccessKey: AKIAxyz`,
          details: {
            pem: '-----BEGIN PRIVATE KEY-----\nMC4CAQ\n-----END PRIVATE KEY-----',
            note: `token ${secret}`,
          },
        },
      ],
      secrets: [secret],
    });
    const text = JSON.stringify(r);
    for (const leaked of [secret, 'abcDEF123', 'pa55word', 'AKIAxyz', 'MC4CAQ']) {
      assert.ok(!text.includes(leaked), `${leaked} leaked into the report`);
    }
    assert.match(text, /\[redacted\]/);
    assert.match(r.cluster?.bootstrapServers ?? '', /broker:9093/);
  });

  test('redaction keeps harmless text intact', () => {
    assert.equal(redactText('s3://bucket/prefix has 3 objects'), 's3://bucket/prefix has 3 objects');
  });
});

function baseInput() {
  return { backup: { id: 'b', storage: 'file:///backups' }, checks, toolVersion: '0.1.0' };
}

describe('signing and verification', () => {
  for (const type of ['ed25519', 'ec'] as const) {
    test(`a sealed report verifies with the trusted ${type} key`, async () => {
      const { privatePem, publicPem } = keyPair(type);
      const key = await loadSigningKey({ pem: privatePem });
      const sealed = sealEvidence(report(), key);
      const result = verifyEvidence({
        json: sealed.json,
        html: sealed.html,
        signature: sealed.signature,
        publicKey: await loadPublicKey({ pem: publicPem }),
      });
      assert.deepEqual(result.problems, []);
      assert.equal(result.valid, true);
      assert.equal(result.keyId, key.keyId);
      assert.equal(sealed.report.signature?.keyId, key.keyId);
    });
  }

  test('changing any single byte of the report, the HTML or the signature file fails verification', async () => {
    const { privatePem, publicPem } = keyPair();
    const sealed = sealEvidence(report(), await loadSigningKey({ pem: privatePem }));
    const publicKey = await loadPublicKey({ pem: publicPem });
    const signature = sealed.signature as Uint8Array;
    const html = sealed.html as Uint8Array;
    for (let i = 0; i < sealed.json.length; i++) {
      const r = verifyEvidence({ json: flip(sealed.json, i), signature, html, publicKey });
      assert.equal(r.valid, false, `report byte ${i} changed but verified`);
    }
    for (let i = 0; i < html.length; i++) {
      const r = verifyEvidence({ json: sealed.json, signature, html: flip(html, i), publicKey });
      assert.equal(r.valid, false, `HTML byte ${i} changed but verified`);
    }
    for (let i = 0; i < signature.length; i++) {
      const r = verifyEvidence({
        json: sealed.json,
        signature: flip(signature, i),
        html: sealed.html,
        publicKey,
      });
      assert.equal(r.valid, false, `signature byte ${i} changed but verified`);
    }
  });

  test('a report signed by another key, or unsigned, does not verify', async () => {
    const signer = keyPair();
    const other = keyPair();
    const sealed = sealEvidence(report(), await loadSigningKey({ pem: signer.privatePem }));
    const r = verifyEvidence({
      json: sealed.json,
      signature: sealed.signature,
      publicKey: await loadPublicKey({ pem: other.publicPem }),
    });
    assert.equal(r.valid, false);
    assert.ok(r.problems.some((p) => p.includes('trusted key')));
    const unsigned = sealEvidence(report());
    const u = verifyEvidence({
      json: unsigned.json,
      signature: unsigned.signature,
      publicKey: await loadPublicKey({ pem: signer.publicPem }),
    });
    assert.equal(u.valid, false);
    assert.match(u.problems[0] ?? '', /no signature/);
  });

  test('a bad key is refused without echoing its content', async () => {
    await assert.rejects(loadSigningKey({ pem: 'not-a-key-SECRETSTUFF' }), (e: Error) => {
      assert.match(e.message, /not a PEM private key/);
      assert.ok(!e.message.includes('SECRETSTUFF'));
      return true;
    });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    await assert.rejects(loadSigningKey({ pem: rsa.toString() }), /rsa key; use Ed25519/);
  });

  test('the signing key never appears in the stored artefacts', async () => {
    const { privatePem } = keyPair();
    const sealed = sealEvidence(report(), await loadSigningKey({ pem: privatePem }));
    const body = privatePem.split('\n')[1] as string;
    for (const bytes of [sealed.json, sealed.html, sealed.signature as Uint8Array]) {
      assert.ok(!new TextDecoder().decode(bytes).includes(body));
    }
  });

  test('reports are stored under predictable keys', () => {
    assert.deepEqual(evidenceKeys('backup-1', 'validation-x'), {
      json: 'evidence/backup-1/validation-x/report.json',
      html: 'evidence/backup-1/validation-x/report.html',
      sig: 'evidence/backup-1/validation-x/report.sig',
    });
  });
});
