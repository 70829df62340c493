/**
 * Objects of the five kinds in each state their operator can leave them in, written by the real
 * reconcilers over the fake API server of the unit tests (fake-kube.ts), as Argo CD would read
 * them: the whole object, metadata.generation and status. Kafka and storage are the in-memory
 * adapters where the controller takes ports (KafkaBackup, KafkaBackupValidation); the one-shot
 * kinds run their real kind definition (outcome, noun, Events) with a run the test ends, and
 * their real `prepare` where a missing reference must stall them.
 */
import { Registry } from 'prom-client';
import type { RestoreRunResult } from '../../../runtime/app/restore.ts';
import { ConfigError } from '../../../runtime/config/reader.ts';
import { silentLogger } from '../../../runtime/log.ts';
import { RunMetrics, runMetricsOf } from '../../../runtime/metrics/run-metrics.ts';
import type { CommandResult } from '../../../runtime/offsets/commands.ts';
import type { Controller } from '../../../runtime/operator/controller.ts';
import { backupController } from '../../../runtime/operator/controllers/backup.ts';
import { resetKind } from '../../../runtime/operator/controllers/offset-reset.ts';
import { rollbackKind } from '../../../runtime/operator/controllers/offset-rollback.ts';
import { type OneShotKind, oneShotController } from '../../../runtime/operator/controllers/one-shot.ts';
import { type RestoreRun, restoreKind } from '../../../runtime/operator/controllers/restore.ts';
import { validationController } from '../../../runtime/operator/controllers/validation.ts';
import { EventRecorder } from '../../../runtime/operator/event-recorder.ts';
import { OperatorMetrics } from '../../../runtime/operator/metrics.ts';
import { ObjectCache } from '../../../runtime/operator/object-cache.ts';
import {
  apiVersionOf,
  KAFKA_KINDS,
  type KubeObject,
  type ObjectKey,
  type ResourceKind,
} from '../../../runtime/operator/resource.ts';
import { InProcessRunner, runKey } from '../../../runtime/operator/runs/runner.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import { MemoryKafka } from '../app/memory-kafka.ts';
import { mapSecrets, memoryPorts, storage } from '../app/memory-ports.ts';
import { FakeKube, reconcileOnce } from '../operator/fake-kube.ts';
import { writeBackup } from '../validation/backup-fixture.ts';

export type States = Record<string, KubeObject>;

const key: ObjectKey = { namespace: 'team', name: 'orders' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const copy = (o: KubeObject | undefined): KubeObject => structuredClone(o) as KubeObject;

/** The object after a spec edit the operator has not seen yet (metadata.generation + 1). */
function edited(object: KubeObject): KubeObject {
  const o = copy(object);
  o.metadata.generation = (o.metadata.generation ?? 1) + 1;
  return o;
}

/** A fake API server holding one object of `kind`, and helpers to look at and change it. */
function api(kind: ResourceKind, spec: Record<string, unknown>, createdAt = '2030-01-01T05:30:00Z') {
  const name = key.name;
  const kube = new FakeKube();
  const k = { namespace: key.namespace, name };
  kube.put(kind, {
    apiVersion: apiVersionOf(kind),
    kind: kind.kind,
    metadata: { ...k, uid: `uid-${name}`, generation: 1, creationTimestamp: createdAt },
    spec,
  });
  const recorder = new EventRecorder(kube, { instance: 'test', throttleMs: 0 });
  return {
    kube,
    key: k,
    object: async () => copy(await kube.get(kind, k)),
    reconcile: (controller: Controller) => reconcileOnce(controller, kube, k, recorder),
    update: async (change: (o: KubeObject) => void) => {
      const o = copy(await kube.get(kind, k));
      change(o);
      kube.put(kind, o);
    },
  };
}

// --- KafkaBackup ---------------------------------------------------------------------------------

export const backupSpec = {
  kafkaCluster: { bootstrapServers: ['kafka:9092'] },
  topics: ['orders'],
  storage,
};

/** A KafkaBackup run by the real controller over in-memory Kafka and storage, on a test clock. */
export function backupHarness(
  spec: Record<string, unknown>,
  options: { productionPorts?: boolean; store?: MemoryObjectStore } = {},
) {
  const KB = KAFKA_KINDS.KafkaBackup;
  const a = api(KB, spec);
  let clock = new Date('2030-01-01T06:00:01Z');
  const now = () => clock;
  const source = new MemoryKafka('source');
  source.seed('orders', 1, 10);
  const runner = new InProcessRunner({ onChange: () => {}, log: silentLogger, now });
  const controller = backupController({
    runner,
    metrics: new RunMetrics(new Registry()),
    now,
    // Without ports: the production adapters, reading Secrets through the fake API server.
    ...(options.productionPorts
      ? {}
      : {
          ports: () => memoryPorts({ 'kafka:9092': source }, options.store ? { store: options.store } : {}),
        }),
  });
  const rk = runKey(KB, a.key);
  return {
    ...a,
    runner,
    reconcile: () => a.reconcile(controller),
    /** Waits for the run to end, then reconciles (the runner's change would enqueue the key). */
    finishRun: async () => {
      while (runner.get(rk)?.state === 'running') await sleep(5);
      return a.reconcile(controller);
    },
    advance: (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    },
  };
}

export async function backupStates(): Promise<States> {
  const states: States = {};
  const once = backupHarness(backupSpec);
  states.new = await once.object();
  await once.reconcile();
  states.running = await once.object();
  await once.finishRun();
  states.completed = await once.object();
  states.edited = edited(states.completed);

  const scheduled = backupHarness({ ...backupSpec, schedule: '0 0 * * *' });
  await scheduled.reconcile();
  states.scheduled = await scheduled.object();

  const suspended = backupHarness({ ...backupSpec, schedule: '0 0 * * *', suspend: true });
  await suspended.reconcile();
  states.suspended = await suspended.object();

  const invalid = backupHarness({ ...backupSpec, schedule: '0 0 5-2 * * *' });
  await invalid.reconcile();
  states.invalidSchedule = await invalid.object();

  // A Secret that does not exist: retriable, so Stalled (and Stalled still while a retry runs).
  const secret = backupHarness(
    {
      ...backupSpec,
      storage: {
        storageType: 's3',
        s3: { bucket: 'backups', region: 'eu-west-1', credentialsSecret: { name: 's3-creds' } },
      },
    },
    { productionPorts: true },
  );
  await secret.reconcile();
  await secret.finishRun();
  states.stalled = await secret.object();
  secret.advance(11_000);
  await secret.reconcile();
  states.retrying = await secret.object();
  await secret.finishRun();

  // A failure no retry fixes: the backup in storage is corrupt (IntegrityError, terminal).
  const store = new MemoryObjectStore();
  const broken = backupHarness(backupSpec, { store });
  await broken.reconcile();
  await broken.finishRun();
  const descriptorKey = `${key.name}/backup.json`;
  const descriptor = store.objects.get(descriptorKey);
  if (!descriptor) throw new Error(`no ${descriptorKey} in ${[...store.objects.keys()].join(', ')}`);
  store.objects.set(descriptorKey, { ...descriptor, bytes: descriptor.bytes.subarray(0, -5) });
  await broken.update((o) => {
    o.metadata.annotations = { 'kafka.oso.sh/rerun': 'again' };
  });
  await broken.reconcile();
  await broken.finishRun();
  states.failed = await broken.object();
  return states;
}

// --- KafkaRestore, KafkaOffsetReset, KafkaOffsetRollback -----------------------------------------------

/** A one-shot kind's real definition whose `prepare` publishes a plan and runs what the test says. */
function oneShotHarness<R>(
  real: OneShotKind<R>,
  spec: Record<string, unknown>,
  options: { realPrepare?: boolean; summary?: string } = {},
) {
  const a = api(real.kind, spec);
  let end: { resolve: (r: R) => void; reject: (e: Error) => void } | undefined;
  const kind: OneShotKind<R> = options.realPrepare
    ? real
    : {
        ...real,
        prepare: async () => ({
          status: {},
          summary: options.summary ?? 'the plan',
          // Ended by the test, or stopped at once by an abort (as a real run stops at its next batch).
          work: (controls) =>
            new Promise<R>((resolve, reject) => {
              end = { resolve, reject };
              controls.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
            }),
        }),
      };
  let clock = new Date('2030-01-01T06:00:00Z');
  const runner = new InProcessRunner({ onChange: () => {}, log: silentLogger });
  const controller = oneShotController(kind, {
    runner,
    metrics: runMetricsOf(new Registry()),
    now: () => clock,
  });
  return {
    ...a,
    reconcile: () => a.reconcile(controller),
    /** Ends the run with `result` (or fails it), lets the runner record it, and reconciles. */
    end: async (result: R | Error) => {
      if (result instanceof Error) end?.reject(result);
      else end?.resolve(result);
      await sleep(10);
      return a.reconcile(controller);
    },
    advance: (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    },
  };
}

/**
 * The states every one-shot kind goes through: new, awaiting approval (and approved, not yet
 * seen), running, completed, failed (terminal), past its deadline, stalled (the real `prepare`,
 * whose reference does not exist), and `unsuccessful`: the kind's final phase that is not a
 * success (RolledBack, PartiallyCompleted), from the kind's real outcome of `results.unsuccessful`.
 */
async function oneShotStates<R>(
  real: OneShotKind<R>,
  spec: Record<string, unknown>,
  results: { succeeded: R; unsuccessful: R },
  summary: string,
): Promise<States> {
  const states: States = {};
  const manual = oneShotHarness(real, { ...spec, approval: { policy: 'Manual' } }, { summary });
  states.new = await manual.object();
  await manual.reconcile();
  states.awaitingApproval = await manual.object();
  await manual.update((o) => {
    o.spec = { ...spec, approval: { policy: 'Manual', approved: true } };
    o.metadata.generation = 2;
  });
  states.approved = await manual.object();
  await manual.reconcile();
  states.running = await manual.object();
  await manual.end(results.succeeded);
  states.completed = await manual.object();

  const unsuccessful = oneShotHarness(real, spec, { summary });
  await unsuccessful.reconcile();
  await unsuccessful.end(results.unsuccessful);
  states.unsuccessful = await unsuccessful.object();

  const failed = oneShotHarness(real, spec, { summary });
  await failed.reconcile();
  await failed.end(new ConfigError(`${real.kind.kind} team/orders`, ['consumerGroups: must not be empty']));
  states.failed = await failed.object();

  const late = oneShotHarness(real, { ...spec, activeDeadlineSeconds: 5 }, { summary });
  await late.reconcile();
  late.advance(6_000);
  await late.reconcile();
  states.deadlineExceeded = await late.object();

  const stalled = oneShotHarness(real, spec, { realPrepare: true });
  await stalled.reconcile();
  states.stalled = await stalled.object();
  return states;
}

const restored: RestoreRunResult = {
  outcome: 'complete',
  backupId: 'nightly',
  restoreId: 'orders-uidorder',
  dryRun: false,
  resumed: false,
  plan: {
    backupId: 'nightly',
    topics: [{ source: ['orders'], target: 'orders-restored', partitions: 1, repartitioned: false }],
    partitions: 1,
    maxRecords: 10,
    bytes: 100,
    segments: 1,
    timeRange: null,
    window: {},
  },
  records: 10,
  reconciled: 0,
  bytes: 100,
  segments: 1,
  durationMs: 1000,
  recordsPerSec: 10,
  bytesPerSec: 100,
  createdTopics: [],
  partitions: [],
};

export function restoreStates(): Promise<States> {
  const snapshotId = 'snap-20300101T060000Z-1a2b3c4d';
  const rolledBack: RestoreRun = {
    ...restored,
    consumerGroups: { failure: 'commit-failed', text: 'commit refused by the broker', json: { snapshotId } },
    rolledBack: { text: 'Rollback completed.', json: {} },
  };
  return oneShotStates(
    restoreKind(silentLogger),
    { backupRef: { name: 'nightly' }, kafkaCluster: { bootstrapServers: ['kafka:9092'] } },
    { succeeded: restored, unsuccessful: rolledBack },
    'restore backup nightly (KafkaBackup team/nightly): up to 10 records into orders-restored',
  );
}

const groups = (statuses: string[]) =>
  statuses.map((status, i) => ({
    group: `app-${i + 1}`,
    status,
    ...(status === 'failed' ? { error: 'refused' } : {}),
  }));

export function resetStates(): Promise<States> {
  const reset = (failure: boolean): { result: CommandResult; durationMs: number } => ({
    durationMs: 1200,
    result: {
      ...(failure ? { failure: 'commit-failed' as const } : {}),
      text: '',
      json: {
        status: failure ? 'failed' : 'completed',
        snapshotId: 'snap-20300101T060000Z-9f8e7d6c',
        groups: groups(failure ? ['committed', 'failed'] : ['committed', 'committed']),
        mismatches: [],
      },
    },
  });
  return oneShotStates(
    resetKind(silentLogger),
    {
      kafkaCluster: { bootstrapServers: ['kafka:9092'] },
      consumerGroups: ['app-1', 'app-2'],
      resetStrategy: 'from-mapping',
      offsetMappingRef: { restoreName: 'missing-restore' },
      continueOnError: true,
    },
    { succeeded: reset(false), unsuccessful: reset(true) },
    'reset 2 consumer group(s) (app-1, app-2) with from-mapping',
  );
}

export function rollbackStates(): Promise<States> {
  const rollback = (failure: boolean): { result: CommandResult; durationMs: number } => ({
    durationMs: 800,
    result: {
      ...(failure ? { failure: 'commit-failed' as const } : {}),
      text: '',
      json: {
        status: failure ? 'failed' : 'completed',
        snapshotId: 'snap-20300101T060000Z-1a2b3c4d',
        groups: groups(failure ? ['committed', 'failed'] : ['committed']),
        mismatches: [],
        verified: !failure,
        changes: [{ group: 'app-1' }],
      },
    },
  });
  return oneShotStates(
    rollbackKind(silentLogger),
    {
      kafkaCluster: { bootstrapServers: ['kafka:9092'] },
      snapshotRef: { name: 'snap-20300101T060000Z-1a2b3c4d', restoreRef: 'missing-restore' },
    },
    { succeeded: rollback(false), unsuccessful: rollback(true) },
    'roll 1 consumer group(s) back to snapshot snap-20300101T060000Z-1a2b3c4d',
  );
}

// --- KafkaBackupValidation -------------------------------------------------------------------------

export const validationSpec = {
  backupRef: { name: 'nightly' },
  checks: {
    messageCount: { enabled: false },
    offsetRange: { enabled: false },
    consumerGroupOffsets: { enabled: false },
    integrity: { enabled: true },
  },
};

/** The real validation controller over an in-memory store holding backup `nightly`. */
async function validationHarness(spec: Record<string, unknown>, options: { corrupt?: boolean } = {}) {
  const KBV = KAFKA_KINDS.KafkaBackupValidation;
  const KB = KAFKA_KINDS.KafkaBackup;
  // Created after the last hourly tick before the clock: a schedule waits for the next one.
  const a = api(KBV, spec, '2030-01-01T06:10:00Z');
  const store = new MemoryObjectStore();
  await writeBackup(store, 'nightly', 'orders', [{ partition: 0, offsets: [0n, 1n, 2n, 3n] }]);
  if (options.corrupt) {
    // A truncated segment: segment-integrity fails even without checks.integrity.deep.
    for (const [k, o] of store.objects)
      if (k.includes('/segments/'))
        store.objects.set(k, { ...o, bytes: o.bytes.subarray(0, o.bytes.length - 5) });
  }
  a.kube.put(KB, { metadata: { name: 'nightly', namespace: key.namespace }, spec: { storage } });
  const clock = new Date('2030-01-01T06:20:00Z');
  const runner = new InProcessRunner({ onChange: () => {}, log: silentLogger });
  const controller = validationController(
    {
      kube: a.kube,
      log: silentLogger,
      runner,
      metrics: new OperatorMetrics(new Registry(), { processMetrics: false }),
    },
    { now: () => clock, portsFor: () => memoryPorts({}, { store, secrets: mapSecrets({}) }) },
  );
  // Both kinds in the cache, as the manager's informers would hold them.
  const caches = { [KBV.kind]: new ObjectCache(), [KB.kind]: new ObjectCache() };
  const reconcile = () => {
    for (const [id, o] of a.kube.objects)
      caches[id.startsWith(`${KB.plural}/`) ? KB.kind : KBV.kind]?.upsert(o);
    return controller.reconcile(a.key, {
      cache: caches[KBV.kind] as ObjectCache,
      cacheOf: (kind) => caches[kind.kind] as ObjectCache,
      client: a.kube,
      recorder: new EventRecorder(a.kube, { instance: 'test', throttleMs: 0 }),
      log: silentLogger,
      signal: new AbortController().signal,
    });
  };
  const finishRun = async () => {
    while (runner.get(runKey(KBV, a.key))?.state === 'running') await sleep(5);
    return reconcile();
  };
  return { ...a, reconcile, finishRun };
}

export async function validationStates(): Promise<States> {
  const states: States = {};
  const once = await validationHarness(validationSpec);
  states.new = await once.object();
  await once.reconcile();
  states.running = await once.object();
  await once.finishRun();
  states.completed = await once.object();
  states.edited = edited(states.completed);

  const corrupt = await validationHarness(validationSpec, { corrupt: true });
  await corrupt.reconcile();
  await corrupt.finishRun();
  states.failed = await corrupt.object();

  const missing = await validationHarness({ ...validationSpec, backupRef: { name: 'later' } });
  await missing.reconcile();
  states.stalled = await missing.object();

  const scheduled = await validationHarness({ ...validationSpec, schedule: '0 0 * * * *' });
  await scheduled.reconcile();
  states.scheduled = await scheduled.object();

  const suspended = await validationHarness({ ...validationSpec, schedule: '0 0 * * * *', suspend: true });
  await suspended.reconcile();
  states.suspended = await suspended.object();

  const invalid = await validationHarness({ ...validationSpec, schedule: '0 0 5-2 * * *' });
  await invalid.reconcile();
  states.invalidSchedule = await invalid.object();
  return states;
}
