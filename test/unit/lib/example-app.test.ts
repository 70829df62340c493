import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import { parseAllDocuments } from 'yaml';
import { createExampleApp } from '../../../examples/app.ts';
import { KUSTOMIZATION_FILE, synthesizeForGitOps, validateManifest } from '../../../lib/index.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dist = join(root, 'dist');
const scratch = mkdtempSync(join(tmpdir(), 'kafka-backup-synth-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Doc = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: unknown;
  [k: string]: unknown;
};
/** The files synth writes: dist/'s top level (dist/argocd/ is scripts/gen-argocd.ts's). */
const synthFiles = (): string[] =>
  readdirSync(dist, { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name);
const readDocs = (dir: string, file: string): Doc[] =>
  parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS() as Doc);

describe('the example app and dist/', () => {
  test('dist/ is what `npm run synth` writes now (run it when this fails)', () => {
    const out = join(scratch, 'golden');
    const written = synthesizeForGitOps(createExampleApp(), { outdir: out });
    assert.deepEqual(synthFiles().sort(), [...written].sort(), 'the same files');
    for (const file of written) {
      assert.equal(
        readFileSync(join(out, file), 'utf8'),
        readFileSync(join(dist, file), 'utf8'),
        `dist/${file} is stale`,
      );
    }
  });

  test('synthesis is deterministic', () => {
    const [a, b] = ['a', 'b'].map((name) => {
      const out = join(scratch, name);
      synthesizeForGitOps(createExampleApp(), { outdir: out });
      return readdirSync(out).map((f) => readFileSync(join(out, f), 'utf8'));
    });
    assert.deepEqual(a, b);
  });

  test('the CRDs come first, byte for byte from crds/, and the Kustomization lists every file in order', () => {
    const files = synthFiles()
      .filter((f) => f !== KUSTOMIZATION_FILE)
      .sort();
    const crds = readdirSync(join(root, 'crds')).sort();
    assert.deepEqual(
      files.slice(0, crds.length),
      crds.map((c) => `00-crd-${c}`),
    );
    for (const crd of crds) {
      assert.equal(
        readFileSync(join(dist, `00-crd-${crd}`), 'utf8'),
        readFileSync(join(root, 'crds', crd), 'utf8'),
      );
    }
    const [kustomization] = readDocs(dist, KUSTOMIZATION_FILE);
    assert.equal(kustomization?.kind, 'Kustomization');
    assert.deepEqual(kustomization?.resources, files);
  });

  test("the seed's examples synthesize to the seed's own specs", () => {
    const seedDir = join(root, 'test/fixtures/seed');
    const synthesized = readDocs(dist, '11-seed-examples.yaml');
    for (const file of readdirSync(seedDir).filter((f) => f.endsWith('.yaml'))) {
      const [seed] = readDocs(seedDir, file);
      const ours = synthesized.find(
        (d) => d.kind === seed?.kind && d.metadata?.name === seed?.metadata?.name,
      );
      assert.ok(ours, `${file}: no ${seed?.kind} ${seed?.metadata?.name} in dist/`);
      assert.deepEqual(ours.spec, seed?.spec, file);
    }
  });

  test('every custom resource in dist/ passes the CRD validation', () => {
    for (const file of synthFiles().filter((f) => /^1\d-/.test(f))) {
      for (const doc of readDocs(dist, file).filter((d) => d.apiVersion === 'kafka.oso.sh/v1alpha1')) {
        assert.deepEqual(
          validateManifest(doc as { kind: string }),
          [],
          `${file}: ${doc.kind} ${doc.metadata?.name}`,
        );
      }
    }
  });

  test('no secret material in dist/: no Secret objects, only Secret names and key names', () => {
    const files = readdirSync(dist, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => relative(dist, join(d.parentPath, d.name)));
    const docs = files.flatMap((file) => readDocs(dist, file).map((doc) => ({ file, doc })));
    assert.ok(docs.length > 20, 'scanned the whole of dist/');
    assert.deepEqual(secretProblems(docs), []);
  });

  test('the secret scan finds planted secret material', () => {
    const planted: Doc[] = [
      { kind: 'Secret', metadata: { name: 'leak' }, stringData: { password: 'hunter2' } },
      {
        kind: 'KafkaBackup',
        metadata: { name: 'k' },
        spec: { kafkaCluster: { saslSecret: { name: 's', password: 'x' } } },
      },
      { kind: 'ConfigMap', metadata: { name: 'c' }, data: { key: '-----BEGIN PRIVATE KEY-----\nMII' } },
      { kind: 'ConfigMap', metadata: { name: 'd' }, data: { id: 'AKIAABCDEFGHIJKLMNOP' } },
    ];
    const found = secretProblems(planted.map((doc) => ({ file: 'planted.yaml', doc })));
    for (const fragment of [
      'a Secret object (leak)',
      'saslSecret.password: not a reference',
      'PEM block',
      'AWS access key id',
    ]) {
      assert.ok(
        found.some((p) => p.includes(fragment)),
        `${fragment} in ${JSON.stringify(found)}`,
      );
    }
  });

  test('the GitOps writer refuses a Secret with data, which would put its material in Git', () => {
    const app = new App();
    const chart = new Chart(app, 'leaky');
    new kplus.Secret(chart, 'Creds', {
      metadata: { name: 's3-credentials' },
      stringData: { AWS_SECRET_ACCESS_KEY: 'x' },
    });
    assert.throws(
      () => synthesizeForGitOps(app, { outdir: join(scratch, 'leaky') }),
      /Secret "s3-credentials" carries data, which would be committed to Git; create it out of band/,
    );
  });

  test('the quick start (examples/quickstart.ts) runs and writes an hourly backup and a restore plan', () => {
    const out = join(scratch, 'quickstart');
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'examples/quickstart.ts')], {
      cwd: root,
      env: { ...process.env, CDK8S_OUTDIR: out },
    });
    const docs = readdirSync(out).flatMap((f) => readDocs(out, f));
    const backup = docs.find((d) => d.kind === 'KafkaBackup') as
      | { spec: Record<string, unknown> }
      | undefined;
    const restore = docs.find((d) => d.kind === 'KafkaRestore') as
      | { spec: Record<string, unknown> }
      | undefined;
    assert.equal(backup?.spec.schedule, '0 0 * * * *');
    assert.deepEqual(backup?.spec.topics, ['orders', 'payments']);
    assert.deepEqual(restore?.spec.topicMapping, {
      orders: 'orders-restored',
      payments: 'payments-restored',
    });
    assert.deepEqual(restore?.spec.backupRef, {
      name: (docs.find((d) => d.kind === 'KafkaBackup') as Doc).metadata?.name,
    });
  });
});

/** Anything in the manifests that looks like secret material rather than a reference to it. */
function secretProblems(docs: Array<{ file: string; doc: Doc }>): string[] {
  const problems: string[] = [];
  const secretLike = [
    [/-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/, 'PEM block'],
    [/\bAKIA[0-9A-Z]{16}\b/, 'AWS access key id'],
    [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, 'JWT'],
    [/^[A-Za-z0-9+/]{40,}={0,2}$/, 'long base64 value'],
    [/^[0-9a-f]{32,}$/, 'long hex value'],
    [/(SharedAccessSignature|AccountKey=|[?&]sig=)/, 'Azure credential'],
  ] as const;
  const sensitiveKey =
    /^(password|passwd|token|secret|secretAccessKey|accessKeyId|accountKey|sasToken|clientSecret|privateKey|apiKey)$/i;
  // A reference to a Secret holds its name, the names of keys in it and (for SASL) the mechanism.
  const referenceField = (field: string) =>
    field === 'name' || field === 'key' || field === 'mechanism' || field.endsWith('Key');
  const visit = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      for (const [pattern, what] of secretLike) if (pattern.test(value)) problems.push(`${where}: ${what}`);
    } else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) visit(v, `${where}[${i}]`);
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (sensitiveKey.test(k) && typeof v !== 'object')
          problems.push(`${where}.${k}: a value under a sensitive key`);
        if (k.endsWith('Secret') && typeof v === 'object' && v !== null) {
          for (const [field, fieldValue] of Object.entries(v)) {
            if (!referenceField(field)) problems.push(`${where}.${k}.${field}: not a reference`);
            if (typeof fieldValue !== 'string' || fieldValue.length > 253)
              problems.push(`${where}.${k}.${field}: not a name`);
          }
        }
        visit(v, `${where}.${k}`);
      }
    }
  };
  for (const { file, doc } of docs) {
    if (doc.kind === 'Secret') problems.push(`${file}: a Secret object (${doc.metadata?.name})`);
    // CRD schemas describe fields; their property names are not values.
    if (doc.kind !== 'CustomResourceDefinition') visit(doc, `${file}:${doc.kind}/${doc.metadata?.name}`);
  }
  return problems;
}
