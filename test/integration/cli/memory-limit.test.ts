import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { producerPerf, writePayloadFile } from '../../../bench/lib/kafka-tools.ts';
import { need, testEnv, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { type MemoryCgroup, memoryCgroup, memoryCgroupUnavailable } from '../../env/memory-cgroup.ts';
import { testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, type Workspace, workspace } from './cli-helpers.ts';

/**
 * A backup and a restore with the default segments (128 MiB) and maxConcurrentPartitions (4),
 * under the operator chart's memory limit (512 MiB), where in-process runs take place: 1 GiB over 6
 * partitions peaked at 1.26 GiB and 0.9 GiB and both were killed for memory. Now each runs the
 * partitions that fit (one at a time here), says so, and completes with every record.
 */
const unavailable = memoryCgroupUnavailable();

describe('backup and restore under a 512 MiB memory limit, default segments', { timeout: 600_000 }, () => {
  const RECORDS = 1_048_576;
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('mem');
  const restored = `${topic}-restored`;
  let ws: Workspace;
  let cgroup: MemoryCgroup | undefined;

  before(async () => {
    if (unavailable) return;
    ws = await workspace();
    await createTopic(source, topic, { partitions: 6 });
    const payload = join(ws.dir, 'payload.txt');
    writePayloadFile(payload, 1024);
    // Kafka's own producer: 1 GiB in seconds, as the benchmark fills its topics.
    await producerPerf(testEnv(), topic, RECORDS, payload, 1024);
    cgroup = memoryCgroup(512, `kafka-backup-test-${process.pid}`);
  });

  after(async () => {
    if (unavailable) return;
    cgroup?.remove();
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, restored).catch(() => {});
    await ws.cleanup();
  });

  test('each completes with every record, fewer partitions at once, and says why', {
    skip: unavailable,
  }, async () => {
    /** `command` in the cgroup: completes with every record, unkilled, saying it ran fewer at once. */
    const inLimit = async (command: 'backup' | 'restore', config: Record<string, unknown>) => {
      const file = await ws.writeConfig(`${command}.yaml`, config);
      const run = await runCli([command, '--config', file, '--output', 'json'], {}, cgroup?.dir);
      const tail = run.stderr.slice(-2000);
      assert.equal(cgroup?.oomKills(), 0, `${command} killed for memory: ${tail}`);
      assert.equal(run.code, 0, tail);
      assert.equal(parseJsonOutput(run).records, RECORDS);
      assert.match(run.stderr, /fewer partitions at once than maxConcurrentPartitions/);
      return run;
    };
    const storage = { storageType: 'filesystem', filesystem: { path: join(ws.dir, 'volume') } };
    const backup = await inLimit('backup', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage,
      backupId: 'mem',
    });
    assert.match(backup.stderr, /lower segmentMaxBytes/);
    await inLimit('restore', {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      storage,
      backupRef: { backupId: 'mem' },
      topicMapping: { [topic]: restored },
      createTopics: true,
    });
  });
});
