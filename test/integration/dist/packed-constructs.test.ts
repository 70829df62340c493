/**
 * The constructs as a cdk8s user gets them (issue 11): `@oso/kafka-backup-constructs` packed, installed
 * into an empty project from the registry, and the README's quick start synthesized with it on Node 22
 * and Node 24. The output must equal what the project's own sources synthesize, the CRD's CEL rules
 * must give the same verdicts and messages, and the install must hold none of the runtime's dependencies.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validateSpec } from '../../../lib/index.ts';
import { buildConstructsPackage } from '../../../scripts/build-constructs.ts';
import { CLI_BUNDLE } from '../../../scripts/bundle-cli.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The Node 22 LTS the constructs are tested on, from the npm registry's `node` package. */
const NODE_22 = '22.23.3';
/** Packages the runtime needs and a constructs-only install must not bring. */
const RUNTIME_ONLY = [
  '@aws-sdk',
  '@azure',
  '@google-cloud',
  '@platformatic',
  '@kubernetes',
  'lz4-napi',
  'prom-client',
  'croner',
];

/** The quick start (examples/quickstart.ts) as a user writes it, plus two verdicts of the CRD's schedule rule. */
const APP = `
import { App, Chart } from 'cdk8s';
import {
  BackupSource, BackupStorage, KafkaBackupSchedule, KafkaClusterConnection, KafkaRestorePlan, Schedule,
  synthesizeForGitOps, validateSpec,
} from '@oso/kafka-backup-constructs';

const chart = new Chart(new App(), 'kafka-backups');
const cluster = KafkaClusterConnection.plaintext('my-kafka.kafka.svc:9092');
const storage = BackupStorage.s3({ bucket: 'kafka-backups', region: 'eu-west-1', credentialsSecret: 's3-credentials' });
const backup = new KafkaBackupSchedule(chart, 'orders-backup', {
  cluster, storage, topics: ['orders', 'payments'], schedule: Schedule.hourly(),
});
new KafkaRestorePlan(chart, 'orders-restore', {
  cluster,
  source: BackupSource.fromBackup(backup),
  topicMapping: { orders: 'orders-restored', payments: 'payments-restored' },
});
synthesizeForGitOps(chart.node.scope, { outdir: process.env.CDK8S_OUTDIR });

// The CRD's schedule rule, through the same CEL interpreter (RE2's case-insensitive groups included).
const spec = {
  kafkaCluster: { bootstrapServers: ['my-kafka.kafka.svc:9092'] },
  topics: ['orders'],
  storage: { storageType: 's3', s3: { bucket: 'kafka-backups', region: 'eu-west-1' } },
};
console.log(JSON.stringify({
  refused: validateSpec('KafkaBackup', { ...spec, schedule: '0 0 12 * FOO *' }),
  accepted: validateSpec('KafkaBackup', { ...spec, schedule: '0 0 12 * jan *' }),
}));
`;

/** What the project's own sources say of the same specs. */
function verdictsFromSources() {
  const spec = {
    kafkaCluster: { bootstrapServers: ['my-kafka.kafka.svc:9092'] },
    topics: ['orders'],
    storage: { storageType: 's3', s3: { bucket: 'kafka-backups', region: 'eu-west-1' } },
  };
  return {
    refused: validateSpec('KafkaBackup', { ...spec, schedule: '0 0 12 * FOO *' }),
    accepted: validateSpec('KafkaBackup', { ...spec, schedule: '0 0 12 * jan *' }),
  };
}

/** Node 22 from the registry's `node` package, cached outside the repository. */
function node22(): string {
  const dir = join(
    process.env.KAFKA_BACKUP_TEST_CACHE ?? join(homedir(), '.cache/kafka-backup-test'),
    `node-${NODE_22}`,
  );
  const bin = join(dir, 'node_modules/node/bin/node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(
      'npm',
      ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', `node@${NODE_22}`],
      {
        stdio: 'pipe',
      },
    );
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  assert.equal(version, `v${NODE_22}`);
  return bin;
}

function sizeOf(path: string): number {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s || s.isSymbolicLink()) return 0;
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, entry) => n + sizeOf(join(path, entry)), 0);
}

function files(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => statSync(join(dir, f)).isFile())
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

describe('the constructs package, installed as a cdk8s user does', { timeout: 600_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'kb-packed-'));
  const project = join(work, 'app');
  let reference: Map<string, string>;
  before(() => {
    const tarball = buildConstructsPackage(work) as string;
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    writeFileSync(join(project, 'app.mjs'), APP);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
      cwd: project,
      stdio: 'pipe',
    });
    const out = join(work, 'reference');
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'examples/quickstart.ts')], {
      cwd: root,
      env: { ...process.env, CDK8S_OUTDIR: out },
    });
    reference = files(out);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('one npm install brings the constructs and cdk8s, none of the runtime', (t) => {
    const installed = readdirSync(join(project, 'node_modules'));
    for (const name of RUNTIME_ONLY) assert.ok(!installed.includes(name), `${name} was installed`);
    for (const name of ['cdk8s', 'cdk8s-plus-34', 'constructs', '@oso'])
      assert.ok(installed.includes(name), name);
    const mib = sizeOf(join(project, 'node_modules')) / 2 ** 20;
    t.diagnostic(`constructs-only install: ${mib.toFixed(1)} MiB in node_modules`);
    assert.ok(mib < 60, `${mib.toFixed(1)} MiB installed`);
  });

  test('on Node 22 the CLI (the full package) says which Node it needs, before loading anything', () => {
    const cli = CLI_BUNDLE;
    assert.ok(existsSync(cli), 'npm run build first');
    let failed: { status: number; stderr: string } | undefined;
    try {
      execFileSync(node22(), [cli, '--version'], { stdio: 'pipe' });
    } catch (error) {
      failed = {
        status: (error as { status: number }).status,
        stderr: String((error as { stderr: Buffer }).stderr),
      };
    }
    assert.equal(failed?.status, 2);
    assert.match(failed?.stderr ?? '', /^kafka-backup needs Node\.js 24 or later; this is v22\./);
  });

  for (const [name, bin] of [
    ['24', () => process.execPath],
    ['22', node22],
  ] as const) {
    test(`on Node ${name}: the quick start synthesizes the same files, and the CRD's rules give the same verdicts`, () => {
      const node = bin();
      const out = join(work, `node-${name}`);
      const printed = execFileSync(node, ['app.mjs'], {
        cwd: project,
        env: { ...process.env, CDK8S_OUTDIR: out },
        encoding: 'utf8',
      });
      const synthesized = files(out);
      assert.deepEqual([...synthesized.keys()], [...reference.keys()]);
      for (const [file, text] of reference) assert.equal(synthesized.get(file), text, file);
      // The CRDs it writes are dist/'s, byte for byte.
      const crds = [...synthesized.keys()].filter((f) => f.startsWith('00-crd-'));
      assert.equal(crds.length, 5);
      for (const f of crds) assert.equal(synthesized.get(f), readFileSync(join(root, 'dist', f), 'utf8'), f);
      const verdicts = JSON.parse(printed.trim()) as ReturnType<typeof verdictsFromSources>;
      assert.deepEqual(verdicts, verdictsFromSources());
      assert.equal(verdicts.refused.length, 1);
      assert.match(verdicts.refused[0]?.message ?? '', /month 1-12 or JAN-DEC/);
      assert.deepEqual(verdicts.accepted, []);
    });
  }
});
