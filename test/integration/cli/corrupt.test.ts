import assert from 'node:assert/strict';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, listTopics } from '../../env/kafka-client.ts';
import { fidelityRecords, produceAll, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, workspace } from './cli-helpers.ts';

async function segmentFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.kbs')) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

describe('corrupt and truncated backup objects', { timeout: 300_000 }, () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('corrupt');
  let ws: Awaited<ReturnType<typeof workspace>>;
  let backupConfig: string;
  let restoreConfig: string;
  let store: string;

  before(async () => {
    ws = await workspace();
    store = path.join(ws.dir, 'store');
    await createTopic(source, topic, { partitions: 2 });
    await produceAll(source, topic, fidelityRecords(4000, 2));
    const storage = { storageType: 'filesystem', filesystem: { path: store } };
    backupConfig = await ws.writeConfig('backup.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage,
      backupId: 'damaged',
      segmentMaxBytes: 32 * 1024,
    });
    restoreConfig = await ws.writeConfig('restore.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      backupRef: { backupId: 'damaged' },
      storage,
      topicMapping: { [topic]: `${topic}-copy` },
      createTopics: true,
    });
    const backup = await runCli(['backup', '--config', backupConfig]);
    assert.equal(backup.code, 0, backup.stderr);
    const verify = await runCli(['verify', '--config', backupConfig, '--deep']);
    assert.equal(verify.code, 0, `an intact backup verifies: ${verify.stdout}${verify.stderr}`);
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, `${topic}-copy`).catch(() => {});
    await ws.cleanup();
  });

  test('a flipped byte: deep verify and restore name the object, exit 3, report no success', async () => {
    const files = await segmentFiles(store);
    const victim = files[Math.floor(files.length / 2)] as string;
    const bytes = await readFile(victim);
    const at = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    await writeFile(victim, bytes);
    const name = path.relative(store, victim);

    const verify = await runCli(['verify', '--config', backupConfig, '--deep', '--output', 'json']);
    assert.equal(verify.code, 3, verify.stderr);
    const report = parseJsonOutput(verify);
    assert.equal(report.ok, false);
    assert.ok(JSON.stringify(report.problems).includes(name), `names ${name}: ${verify.stdout}`);

    const restore = await runCli(['restore', '--config', restoreConfig, '--output', 'json']);
    assert.equal(restore.code, 3, restore.stderr);
    const out = parseJsonOutput(restore);
    assert.equal(out.ok, false);
    assert.ok(String(out.error).includes(name), `the error names the object: ${out.error}`);
    assert.doesNotMatch(restore.stderr, /"msg":"restore finished"/);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    await writeFile(victim, bytes);
  });

  test('a truncated object: even the quick verify and the restore refuse before writing anything', async () => {
    const files = await segmentFiles(store);
    const victim = files[0] as string;
    const size = (await readFile(victim)).length;
    await truncate(victim, size - 100);
    const name = path.relative(store, victim);

    const verify = await runCli(['verify', '--config', backupConfig]);
    assert.equal(verify.code, 3);
    assert.match(verify.stdout, /FAILED/);
    assert.ok(verify.stdout.includes(name));

    const fresh = `${topic}-copy2`;
    const config = await ws.writeConfig('restore2.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      backupRef: { backupId: 'damaged' },
      storage: { storageType: 'filesystem', filesystem: { path: store } },
      topicMapping: { [topic]: fresh },
      createTopics: true,
    });
    const restore = await runCli(['restore', '--config', config]);
    assert.equal(restore.code, 3);
    assert.ok(restore.stderr.includes(name));
    assert.equal(restore.stdout, '', 'no success summary');
    assert.ok(!(await listTopics(target)).includes(fresh), 'nothing was created or written');
  });
});
