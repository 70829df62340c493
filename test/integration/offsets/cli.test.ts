import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { evidenceCli } from '../../../runtime/cli/evidence.ts';
import { offsetsCli } from '../../../runtime/cli/offsets.ts';
import type { CliIo } from '../../../runtime/cli/subcommand-support.ts';
import { validateCli } from '../../../runtime/cli/validate.ts';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { BackupRepository } from '../../../runtime/format/repository.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { FilesystemObjectStore } from '../../../runtime/storage/filesystem.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, kafkaConnection, listTopics, produce } from '../../env/kafka-client.ts';

/** The subcommands as the CLI runs them: CRD-shaped YAML, flags, output, exit codes. */
const kafka = need('kafka');
const source = kafkaConnection(kafka, 'source');
let dir: string;
let configFile: string;
let topic: string;
let admin: PlatformaticKafka;

async function run(
  fn: (argv: string[], io: CliIo) => Promise<number>,
  argv: string[],
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await fn(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'offsets-cli-'));
  topic = uniqueName('cli');
  await createTopic(source, topic, { partitions: 2 });
  await produce(
    source,
    topic,
    Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
    { idempotent: true },
  );
  configFile = path.join(dir, 'reset.yaml');
  await writeFile(
    configFile,
    [
      'apiVersion: kafka.oso.sh/v1alpha1',
      'kind: KafkaOffsetReset',
      'metadata: {name: cli-test}',
      'spec:',
      '  kafkaCluster:',
      `    bootstrapServers: ["${kafka.source.bootstrap}"]`,
      '  storage:',
      '    storageType: filesystem',
      `    filesystem: {path: "${path.join(dir, 'store')}"}`,
      '  resetStrategy: to-earliest',
      '  parallelism: 2',
    ].join('\n'),
  );
  admin = new PlatformaticKafka({
    bootstrapServers: [kafka.source.bootstrap],
    securityProtocol: 'PLAINTEXT',
  });
});

after(async () => {
  await admin?.close();
  if (topic) await deleteTopic(source, topic).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe('offsets, validate and evidence subcommands', () => {
  test('reset --dry-run prints the plan as JSON; reset commits; rollback --snapshot-id undoes it', async () => {
    const group = uniqueName('cli-group');
    await admin.commitOffsets(group, [
      { topic, partition: 0, offset: 4n },
      { topic, partition: 1, offset: 6n },
    ]);
    const dry = await run(offsetsCli, [
      'reset',
      '-c',
      configFile,
      '--group',
      group,
      '--dry-run',
      '-o',
      'json',
    ]);
    assert.equal(dry.code, 0);
    const planned = JSON.parse(dry.out) as {
      result: { status: string; plan: { groups: { changes: { target: string }[] }[] } };
    };
    assert.equal(planned.result.status, 'planned');
    assert.deepEqual(
      planned.result.plan.groups[0]?.changes.map((c) => c.target),
      ['0', '0'],
    );

    const reset = await run(offsetsCli, [
      'reset',
      '-c',
      configFile,
      '--group',
      group,
      '--strategy',
      'shift-by',
      '--shift=-3',
    ]);
    assert.equal(reset.code, 0, reset.out);
    assert.match(reset.out, /Reset completed/);
    const snapshotId = /offsets rollback --snapshot-id (snap-[0-9A-Za-z-]+)/.exec(reset.out)?.[1];
    assert.ok(snapshotId, reset.out);
    assert.deepEqual((await admin.committedOffsets(group)).map((o) => o.offset).sort(), [1n, 3n]);

    const rollback = await run(offsetsCli, ['rollback', '-c', configFile, '--snapshot-id', snapshotId]);
    assert.equal(rollback.code, 0, rollback.out);
    assert.deepEqual((await admin.committedOffsets(group)).map((o) => [o.partition, o.offset]).sort(), [
      [0, 4n],
      [1, 6n],
    ]);
    await admin.deleteOffsets(
      group,
      [0, 1].map((partition) => ({ topic, partition })),
    );
  });

  test('a KafkaOffsetReset file with shift-by/resetShift or from-snapshot/snapshotRef needs no flags', async () => {
    const group = uniqueName('cli-yaml');
    await admin.commitOffsets(group, [
      { topic, partition: 0, offset: 8n },
      { topic, partition: 1, offset: 9n },
    ]);
    const storageYaml = [
      '    storage:',
      '      storageType: filesystem',
      `      filesystem: {path: "${path.join(dir, 'store')}"}`,
    ];
    const resetFile = async (name: string, lines: string[]) => {
      const file = path.join(dir, name);
      await writeFile(
        file,
        [
          'apiVersion: kafka.oso.sh/v1alpha1',
          'kind: KafkaOffsetReset',
          `metadata: {name: ${name.replace('.yaml', '')}}`,
          'spec:',
          '  kafkaCluster:',
          `    bootstrapServers: ["${kafka.source.bootstrap}"]`,
          `  consumerGroups: ["${group}"]`,
          ...lines,
        ].join('\n'),
      );
      return file;
    };
    const committed = async () =>
      (await admin.committedOffsets(group)).map((o) => [o.partition, o.offset]).sort();

    const shift = await resetFile('shift.yaml', [
      '  resetStrategy: shift-by',
      '  resetShift: -5',
      ...storageYaml.map((l) => l.slice(2)),
    ]);
    const shifted = await run(offsetsCli, ['reset', '-c', shift]);
    assert.equal(shifted.code, 0, shifted.out + shifted.err);
    assert.deepEqual(await committed(), [
      [0, 3n],
      [1, 4n],
    ]);
    const snapshotId = /offsets rollback --snapshot-id (snap-[0-9A-Za-z-]+)/.exec(shifted.out)?.[1];
    assert.ok(snapshotId, shifted.out);

    // The snapshot's storage comes from snapshotRef.storage, as for a KafkaOffsetRollback.
    const fromSnapshot = await resetFile('from-snapshot.yaml', [
      '  resetStrategy: from-snapshot',
      '  snapshotRef:',
      `    name: ${snapshotId}`,
      ...storageYaml,
    ]);
    const restored = await run(offsetsCli, ['reset', '-c', fromSnapshot]);
    assert.equal(restored.code, 0, restored.out + restored.err);
    assert.deepEqual(await committed(), [
      [0, 8n],
      [1, 9n],
    ]);
    await admin.deleteOffsets(
      group,
      [0, 1].map((partition) => ({ topic, partition })),
    );
  });

  test('invalid input is a usage error (exit 2) that says what to do', async () => {
    const bad = await run(offsetsCli, ['reset', '-c', configFile, '--group', 'g', '--strategy', 'auto']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown reset strategy 'auto': use one of to-earliest/);
    const noShift = await run(offsetsCli, [
      'reset',
      '-c',
      configFile,
      '--group',
      'g',
      '--strategy',
      'shift-by',
      '-o',
      'json',
    ]);
    assert.equal(noShift.code, 2);
    assert.match(noShift.out, /needs --shift/);
    assert.equal((await run(offsetsCli, ['--help'])).code, 0);
    const missing = await run(evidenceCli, [
      'verify',
      '--public-key',
      configFile,
      '--report',
      path.join(dir, 'none.json'),
    ]);
    assert.equal(missing.code, 6, 'a missing report is "not found"');
    const noKey = await run(evidenceCli, [
      'verify',
      '--public-key',
      path.join(dir, 'none.pub'),
      '--report',
      configFile,
    ]);
    assert.equal(noKey.code, 2, 'an unreadable public key is a usage error');
  });

  test("a KafkaBackupValidation file's checks.integrity.deep and checks.restoreSample mean --deep and --restore-sample", async () => {
    const store = new FilesystemObjectStore(path.join(dir, 'store'));
    const port = new PlatformaticKafka({
      bootstrapServers: [kafka.source.bootstrap],
      securityProtocol: 'PLAINTEXT',
    });
    const backupId = uniqueName('cli-v');
    try {
      await runBackup(
        { kafka: port, repository: new BackupRepository(store) },
        { backupId, topics: { include: [topic] } },
      );
    } finally {
      await port.close();
    }
    const file = path.join(dir, 'validation.yaml');
    await writeFile(
      file,
      [
        'apiVersion: kafka.oso.sh/v1alpha1',
        'kind: KafkaBackupValidation',
        'metadata: {name: cli-validation}',
        'spec:',
        '  backupRef:',
        `    backupId: ${backupId}`,
        '    storage:',
        '      storageType: filesystem',
        `      filesystem: {path: "${path.join(dir, 'store')}"}`,
        '  kafkaCluster:',
        `    bootstrapServers: ["${kafka.source.bootstrap}"]`,
        '  checks:',
        '    messageCount: {enabled: false}',
        '    offsetRange: {enabled: false}',
        '    consumerGroupOffsets: {enabled: false}',
        '    integrity: {enabled: true, deep: true}',
        '    restoreSample: {enabled: true, all: true, scratchTopicPrefix: kb-cli-scratch}',
      ].join('\n'),
    );
    const validated = await run(validateCli, ['-c', file, '--no-store', '-o', 'json']);
    assert.equal(validated.code, 0, validated.out + validated.err);
    const checks = (
      JSON.parse(validated.out) as {
        result: {
          report: { checks: { name: string; outcome: string; details?: Record<string, unknown> }[] };
        };
      }
    ).result.report.checks;
    const byName = (n: string) => checks.find((c) => c.name === n);
    assert.equal(byName('segment-integrity')?.details?.mode, 'deep');
    assert.equal(byName('restore-sample')?.outcome, 'passed');
    assert.equal(byName('restore-sample')?.details?.sample, 'all');
    assert.equal(byName('restore-sample')?.details?.recordsIdentical, 20);
    assert.ok(
      !(await listTopics(source)).some((t) => t.startsWith('kb-cli-scratch')),
      'the scratch topic is deleted',
    );
  });

  test('validate writes a signed report that evidence verify accepts, and rejects once tampered', async () => {
    const store = new FilesystemObjectStore(path.join(dir, 'store'));
    const port = new PlatformaticKafka({
      bootstrapServers: [kafka.source.bootstrap],
      securityProtocol: 'PLAINTEXT',
    });
    const backupId = uniqueName('cli-b');
    try {
      await runBackup(
        { kafka: port, repository: new BackupRepository(store) },
        { backupId, topics: { include: [topic] } },
      );
    } finally {
      await port.close();
    }
    const keys = generateKeyPairSync('ed25519');
    const keyFile = path.join(dir, 'evidence.key');
    const pubFile = path.join(dir, 'evidence.pub');
    await writeFile(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));

    const validated = await run(validateCli, [
      '-c',
      configFile,
      '--backup-id',
      backupId,
      '--deep',
      '--restore-sample',
      '1',
      '--signing-key-file',
      keyFile,
      '-o',
      'json',
    ]);
    assert.equal(validated.code, 0, validated.out);
    const out = JSON.parse(validated.out) as {
      result: { report: { reportId: string }; keys: { json: string } };
    };
    const reportId = out.result.report.reportId;

    const ok = await run(evidenceCli, [
      'verify',
      '--public-key',
      pubFile,
      '-c',
      configFile,
      '--backup-id',
      backupId,
      '--report-id',
      reportId,
    ]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /^VERIFIED/);

    const reportFile = path.join(dir, 'store', out.result.keys.json);
    const text = await readFile(reportFile, 'utf8');
    await writeFile(reportFile, text.replace(backupId, `${backupId}x`));
    const tampered = await run(evidenceCli, ['verify', '--public-key', pubFile, '--report', reportFile]);
    assert.equal(tampered.code, 3);
    assert.match(tampered.out, /NOT VERIFIED/);
  });
});
