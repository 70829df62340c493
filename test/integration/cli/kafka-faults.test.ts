import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { encodeBatch } from '../../../runtime/format/kafka-batch.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { createLogger } from '../../../runtime/log.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { type ConsumedRecord, createTopic, deleteTopic, type TestRecord } from '../../env/kafka-client.ts';
import { proxySourceKafka, type SourceKafkaProxy } from '../../env/kafka-proxy.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { type CliRun, cliCommand, parseJsonOutput, workspace } from './cli-helpers.ts';

/**
 * Kafka reached through toxiproxy (the source cluster's PROXIED listener, so every broker connection
 * crosses the proxy, not only the bootstrap one): latency, then connection resets in the middle of a
 * backup and of a restore. A run either completes exactly, or fails cleanly with exit 4 and reports
 * no success, and the same command then completes with every record exactly once.
 */

/** A run that takes longer than this hangs (a healthy one takes a few seconds). */
const RUN_LIMIT_MS = 60_000;
const FIDELITY = 2000;
const BULK = 12_000;
/** Short client timeouts, so a broken connection fails the run in seconds rather than minutes. */
const CONNECTION = { connectTimeoutMs: 2000, requestTimeoutMs: 5000 };

interface FaultedRun extends CliRun {
  /** The fault was injected while the command was still running. */
  readonly faultedMidRun: boolean;
  /** The command exceeded its time limit and was killed. */
  readonly hung: boolean;
}

/**
 * Runs `kafka-backup` (Node 24, as a user would) and, once the stderr log matches `when`, runs
 * `inject` (which injects a fault and removes it again; `exited` resolves when the command ends)
 * while the command keeps running. Resolves after both the command and the fault are over, so the
 * proxy is healthy again for the next step.
 */
function runCli(
  args: readonly string[],
  fault?: { when: RegExp; inject: (exited: Promise<void>) => Promise<void> },
  limitMs = RUN_LIMIT_MS,
): Promise<FaultedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(...cliCommand(args), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let exited = false;
    let hung = false;
    let faultedMidRun = false;
    let injected: Promise<void> = Promise.resolve();
    let triggered = false;
    let onExit = () => {};
    const exitedPromise = new Promise<void>((r) => {
      onExit = r;
    });
    const limit = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (fault && !triggered && fault.when.test(stderr)) {
        triggered = true;
        faultedMidRun = !exited;
        injected = fault.inject(exitedPromise);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      onExit();
      clearTimeout(limit);
      injected.then(
        () => resolve({ code, signal, stdout, stderr, faultedMidRun, hung }),
        (error: unknown) => reject(error),
      );
    });
  });
}

/**
 * A run hit by a fault either succeeded or failed cleanly as a Kafka error (exit 4, ok: false).
 * A success must show in its log (`felt`) that the fault did reach its Kafka traffic.
 */
function assertCompletedOrFailedCleanly(
  t: TestContext,
  run: FaultedRun,
  what: string,
  felt?: RegExp,
): boolean {
  assert.equal(run.hung, false, `${what} hung under the fault and was killed:\n${run.stderr.slice(-4000)}`);
  assert.ok(run.faultedMidRun, `${what} finished before the fault could be injected:\n${run.stderr}`);
  if (run.code === 0) {
    assert.equal(parseJsonOutput(run).ok ?? true, true);
    if (felt) {
      assert.match(run.stderr, felt, `${what} completed without meeting the fault`);
      const retried = run.stderr.split('\n').filter((l) => felt.test(l)).length;
      t.diagnostic(`${what} rode through the fault (${retried} failed attempts retried) and completed`);
    } else {
      t.diagnostic(`${what} rode through the fault and completed`);
    }
    return true;
  }
  assert.equal(
    run.code,
    4,
    `a Kafka failure exits 4:\nstdout: ${run.stdout}\nstderr: ${run.stderr.slice(-4000)}`,
  );
  const output = parseJsonOutput(run);
  assert.equal(output.ok, false, 'a failed run reports no success');
  t.diagnostic(`${what} failed cleanly: ${String(output.error)}`);
  return false;
}

/**
 * Resets (TCP RST) every connection through the proxy as soon as data flows either way, until `until`
 * settles, then lets traffic through again.
 */
async function resetConnectionsUntil(proxy: SourceKafkaProxy, until: Promise<unknown>): Promise<void> {
  await proxy.toxiproxy.addResetPeer(proxy.name, 'reset-up', { stream: 'upstream', timeoutMs: 0 });
  await proxy.toxiproxy.addResetPeer(proxy.name, 'reset-down', { stream: 'downstream', timeoutMs: 0 });
  try {
    await until;
  } finally {
    await proxy.toxiproxy.removeToxic(proxy.name, 'reset-up');
    await proxy.toxiproxy.removeToxic(proxy.name, 'reset-down');
  }
}

/**
 * The fidelity records, then bulk 1 KiB records, so that each partition holds more than one fetch
 * (4 MiB) and a backup still reads from Kafka seconds after it started.
 */
function testRecords(partitions: number): TestRecord[] {
  const bulk = Array.from({ length: BULK }, (_, i): TestRecord => {
    const value = Buffer.alloc(1024, i % 251);
    value.writeUInt32BE(i);
    return { partition: i % partitions, key: `bulk-${i}`, value, timestamp: 1_700_100_000_000n + BigInt(i) };
  });
  return [...fidelityRecords(FIDELITY, partitions, 11), ...bulk];
}

function assertSameContent(copy: ConsumedRecord[][], original: ConsumedRecord[][], what: string): void {
  assert.deepEqual(
    copy.map((p) => p.length),
    original.map((p) => p.length),
    `${what}: every record exactly once`,
  );
  for (let p = 0; p < original.length; p++) {
    assert.deepEqual(
      (copy[p] as ConsumedRecord[]).map((r) => content(r)),
      (original[p] as ConsumedRecord[]).map((r) => content(r)),
      `${what}: partition ${p} content and order`,
    );
  }
}

describe('Kafka faults (source cluster through toxiproxy)', { timeout: 300_000 }, () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('kfaults');
  const total = FIDELITY + BULK;
  const created: { connection: typeof source; topic: string }[] = [];
  let ws: Awaited<ReturnType<typeof workspace>>;
  let proxy: SourceKafkaProxy;
  let original: ConsumedRecord[][];
  let storage: unknown;

  const backupConfig = (backupId: string, bootstrap: string, extra: Record<string, unknown> = {}) =>
    ws.writeConfig(`backup-${backupId}.yaml`, {
      kafkaCluster: { bootstrapServers: [bootstrap], connection: CONNECTION },
      topics: [topic],
      storage,
      backupId,
      segmentMaxBytes: 64 * 1024,
      checkpoint: { intervalSecs: 1 },
      ...extra,
    });
  const restoreConfig = (
    name: string,
    backupId: string,
    bootstrap: string,
    into: string,
    extra: Record<string, unknown> = {},
  ) =>
    ws.writeConfig(`restore-${name}.yaml`, {
      kafkaCluster: { bootstrapServers: [bootstrap], connection: CONNECTION },
      backupRef: { backupId },
      storage,
      topicMapping: { [topic]: into },
      createTopics: true,
      ...extra,
    });

  /** Restores a backup into a new topic of the target cluster (no proxy) and reads it back. */
  async function restoredContent(backupId: string): Promise<ConsumedRecord[][]> {
    const into = `${topic}-${backupId}`;
    created.push({ connection: target, topic: into });
    const config = await restoreConfig(`check-${backupId}`, backupId, need('kafka').target.bootstrap, into);
    const run = await runCli(['restore', '-c', config, '-o', 'json']);
    assert.equal(run.code, 0, run.stderr);
    return readTopic(target, into);
  }

  before(async () => {
    ws = await workspace();
    storage = { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } };
    await createTopic(source, topic, { partitions: 2 });
    created.push({ connection: source, topic });
    // small chunks: a produce request of 1 KiB records stays under the broker's message size limit
    await produceAll(source, topic, testRecords(2), 500);
    original = await readTopic(source, topic);
    proxy = await proxySourceKafka();
  });
  after(async () => {
    await proxy?.cleanup().catch(() => {});
    for (const c of created) await deleteTopic(c.connection, c.topic).catch(() => {});
    await ws?.cleanup();
  });

  test('every connection through the proxied bootstrap goes to the proxy', async () => {
    const admin = new Admin({
      clientId: 'kafka-faults-probe',
      bootstrapBrokers: [proxy.bootstrap],
      retries: 0,
      connectTimeout: 2000,
      requestTimeout: 5000,
    });
    try {
      const metadata = await admin.metadata({ topics: [topic] });
      const brokers = [...metadata.brokers.values()].map((b) => `${b.host}:${b.port}`);
      assert.deepEqual(brokers, [proxy.bootstrap], 'the broker advertises only the proxy');
    } finally {
      await admin.close();
    }
  });

  test('latency toward Kafka: the backup completes with every record, exactly', async () => {
    await proxy.toxiproxy.addLatency(proxy.name, 'slow-down', 50, { jitterMs: 10, stream: 'downstream' });
    await proxy.toxiproxy.addLatency(proxy.name, 'slow-up', 50, { jitterMs: 10, stream: 'upstream' });
    let run: FaultedRun;
    try {
      run = await runCli(['backup', '-c', await backupConfig('slow', proxy.bootstrap), '-o', 'json']);
    } finally {
      await proxy.toxiproxy.removeToxic(proxy.name, 'slow-down');
      await proxy.toxiproxy.removeToxic(proxy.name, 'slow-up');
    }
    assert.equal(run.hung, false, `the backup hung under latency:\n${run.stderr.slice(-4000)}`);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(parseJsonOutput(run).records, total);
    assertSameContent(await restoredContent('slow'), original, 'backup under latency');
  });

  test('a blip of connection resets during a backup: it completes or fails with exit 4, then resumes exactly', async (t) => {
    const config = await backupConfig('blip', proxy.bootstrap, {
      // Slow enough that the second fetch of each partition falls inside the blip.
      rateLimiting: { recordsPerSec: 3000, maxConcurrentPartitions: 2 },
    });
    const first = await runCli(['backup', '-c', config, '-o', 'json', '--log-level', 'debug'], {
      when: /"msg":"checkpoint committed".*"final":false,"records":[1-9]/,
      inject: () => resetConnectionsUntil(proxy, sleep(3000)),
    });
    if (!assertCompletedOrFailedCleanly(t, first, 'the backup', /"msg":"fetch attempt failed"/)) {
      const rerun = await runCli(['backup', '-c', config, '-o', 'json']);
      assert.equal(rerun.hung, false, 'the rerun hung');
      assert.equal(rerun.code, 0, rerun.stderr);
    }
    const described = parseJsonOutput(await runCli(['describe', '-c', config, '-o', 'json']));
    assert.equal(
      (described.topics as { records: number }[])[0]?.records,
      total,
      'the backup holds every record',
    );
    assertSameContent(await restoredContent('blip'), original, 'backup after a blip of resets');
  });

  test('resets until a backup gives up: it fails with exit 4, and the rerun continues to exactly every record', async (t) => {
    const config = await backupConfig('outage', proxy.bootstrap, {
      rateLimiting: { recordsPerSec: 3000, maxConcurrentPartitions: 2 },
    });
    const first = await runCli(['backup', '-c', config, '-o', 'json', '--log-level', 'debug'], {
      when: /"msg":"checkpoint committed".*"final":false,"records":[1-9]/,
      inject: (exited) => resetConnectionsUntil(proxy, exited),
    });
    assert.equal(
      assertCompletedOrFailedCleanly(t, first, 'the backup'),
      false,
      'Kafka was unreachable to the end',
    );
    const rerun = await runCli(['backup', '-c', config, '-o', 'json']);
    assert.equal(rerun.hung, false, 'the rerun hung');
    assert.equal(rerun.code, 0, rerun.stderr);
    const second = parseJsonOutput(rerun);
    assert.ok((second.records as number) < total, 'the rerun continued from what the failed run saved');
    const described = parseJsonOutput(await runCli(['describe', '-c', config, '-o', 'json']));
    assert.equal(
      (described.topics as { records: number }[])[0]?.records,
      total,
      'the backup holds every record',
    );
    const verify = await runCli(['verify', '-c', config, '--deep']);
    assert.equal(verify.code, 0, verify.stdout);
    assertSameContent(await restoredContent('outage'), original, 'backup after an outage');
  });

  test('Kafka stops answering during a backup: it fails with exit 4 once its request timeouts run out, then resumes exactly', async (t) => {
    // Connections stay open and silent, so only requestTimeoutMs can end the run: keep it short.
    const config = await backupConfig('stall', proxy.bootstrap, {
      kafkaCluster: {
        bootstrapServers: [proxy.bootstrap],
        connection: { connectTimeoutMs: 2000, requestTimeoutMs: 500 },
      },
      rateLimiting: { recordsPerSec: 3000, maxConcurrentPartitions: 2 },
    });
    const first = await runCli(
      ['backup', '-c', config, '-o', 'json', '--log-level', 'debug'],
      {
        when: /"msg":"checkpoint committed".*"final":false,"records":[1-9]/,
        inject: async (exited) => {
          await proxy.stall();
          try {
            await exited;
          } finally {
            await proxy.unstall();
          }
        },
      },
      // Each fetch attempt of the engine (8) retries metadata in the client (6 tries), each waiting
      // requestTimeoutMs: about 8 x 6 x 0.5 s plus backoff before the run gives up.
      120_000,
    );
    assert.equal(
      assertCompletedOrFailedCleanly(t, first, 'the backup'),
      false,
      'Kafka was silent to the end',
    );
    const timeouts = first.stderr
      .split('\n')
      .filter((l) => /fetch attempt failed.*timed out/i.test(l)).length;
    t.diagnostic(`fetch attempts that ended in request timeouts before the run gave up: ${timeouts}`);
    const rerun = await runCli(['backup', '-c', config, '-o', 'json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.ok((parseJsonOutput(rerun).records as number) < total, 'the rerun continued from what was saved');
    const described = parseJsonOutput(await runCli(['describe', '-c', config, '-o', 'json']));
    assert.equal(
      (described.topics as { records: number }[])[0]?.records,
      total,
      'the backup holds every record',
    );
    assertSameContent(await restoredContent('stall'), original, 'backup after Kafka stalled');
  });

  test('a broker that accepts connections and never answers: timed out, retried, summarised once (exit 4)', async () => {
    await proxy.stall();
    let run: FaultedRun;
    try {
      run = await runCli([
        'backup',
        '-c',
        await backupConfig('stalled', proxy.bootstrap, {
          kafkaCluster: {
            bootstrapServers: [proxy.bootstrap],
            connection: { connectTimeoutMs: 1000, requestTimeoutMs: 1000 },
          },
        }),
        '-o',
        'json',
      ]);
    } finally {
      await proxy.unstall();
    }
    assert.equal(run.hung, false, run.stderr.slice(-4000));
    assert.equal(run.code, 4, run.stderr);
    const error = (JSON.parse(run.stdout) as { error: string }).error;
    assert.match(
      error,
      new RegExp(
        `^could not connect to the cluster: connection to ${proxy.bootstrap.replaceAll('.', '\\.')} timed out, 6 attempts over [\\d.]+ s$`,
      ),
    );
    const attempts = run.stderr.split('\n').filter((l) => l.includes('"kafka connection attempt failed"'));
    assert.equal(attempts.length, 6);
    assert.ok(
      attempts.every((l) => l.includes('"reason":"connection-timeout"')),
      attempts.join('\n'),
    );
  });

  test('batches of a partition kept in flight through connection resets: each lands once, in order, none lost', async (t) => {
    // What a restore does with stored batches (up to batchesInFlight of a partition unanswered),
    // through the proxy with latency; the connections are reset several times meanwhile, so
    // batches are retried and some arrive before the batch preceding them.
    const into = uniqueName('in-flight');
    await createTopic(source, into, { partitions: 1 });
    created.push({ connection: source, topic: into });
    const lines: string[] = [];
    const port = new PlatformaticKafka(
      { bootstrapServers: [proxy.bootstrap], securityProtocol: 'PLAINTEXT', connection: CONNECTION },
      { logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }) },
    );
    const keys = (b: number) => Array.from({ length: 20 }, (_, i) => `batch-${b}-record-${i}`);
    const batches = Array.from({ length: 150 }, (_, b) =>
      encodeBatch(
        keys(b).map((key, i) => ({
          offset: BigInt(i),
          timestamp: 1_700_200_000_000n + BigInt(b * 20 + i),
          timestampType: 'CreateTime' as const,
          key: Buffer.from(key),
          value: Buffer.alloc(1024, b % 251),
          headers: [],
        })),
      ),
    );
    await proxy.toxiproxy.addLatency(proxy.name, 'slow-down', 3, { stream: 'downstream' });
    const outcomes: string[] = [];
    try {
      assert.equal(port.batchesInFlight, 4);
      let producing = true;
      const resets = (async () => {
        for (let i = 0; i < 4 && producing; i++) {
          await sleep(150);
          await resetConnectionsUntil(proxy, sleep(30));
        }
      })();
      const window: Promise<void>[] = [];
      for (const [b, batch] of batches.entries()) {
        window.push(
          port.produceBatch({ topic: into, partition: 0 }, batch, 20).then(
            () => {
              outcomes[b] = 'written';
            },
            (error: Error) => {
              outcomes[b] = error.message;
            },
          ),
        );
        if (window.length >= port.batchesInFlight) await window.shift();
      }
      await Promise.all(window);
      producing = false;
      await resets;
    } finally {
      await proxy.toxiproxy.removeToxic(proxy.name, 'slow-down');
      await port.close();
    }
    const landed = ((await readTopic(source, into))[0] ?? []).map((r) => String(r.key));
    const all = batches.flatMap((_, b) => keys(b));
    assert.deepEqual(landed, all.slice(0, landed.length), 'the records landed once each, in order, no gap');
    const failed = outcomes.filter((o) => o !== 'written');
    assert.deepEqual(failed, [], 'every batch was written in the end');
    assert.equal(landed.length, all.length);
    const resent = lines.filter((l) => l.includes('arrived before the one preceding it')).length;
    t.diagnostic(`${resent} batches arrived before the one preceding them and were sent again`);
  });

  test('connection resets during a restore through the proxy: it completes or fails with exit 4, then resumes exactly', async (t) => {
    // A backup made without faults, restored into a new topic of the source cluster through the proxy.
    const base = await runCli([
      'backup',
      '-c',
      await backupConfig('base', need('kafka').source.bootstrap),
      '-o',
      'json',
    ]);
    assert.equal(base.code, 0, base.stderr);
    const into = `${topic}-restored`;
    created.push({ connection: source, topic: into });
    const config = await restoreConfig('proxied', 'base', proxy.bootstrap, into, {
      produceBatchSize: 200,
      checkpointIntervalSecs: 1,
      rateLimiting: { recordsPerSec: 3000, maxConcurrentPartitions: 2 },
    });
    const first = await runCli(['restore', '-c', config, '-o', 'json'], {
      when: /"msg":"restore checkpoint saved","status":"running","records":[1-9]/,
      inject: () => resetConnectionsUntil(proxy, sleep(3000)),
    });
    if (!assertCompletedOrFailedCleanly(t, first, 'the restore')) {
      const rerun = await runCli(['restore', '-c', config, '-o', 'json']);
      assert.equal(rerun.hung, false, 'the rerun hung');
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(parseJsonOutput(rerun).resumed, true);
    }
    assertSameContent(await readTopic(source, into), original, 'restore after resets');
  });
});
