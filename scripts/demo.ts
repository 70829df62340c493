/**
 * `npm run demo`: the product end to end on this machine, with real components only.
 *
 * 1. Starts the local environment (two Kafka clusters, kube-apiserver, MinIO) unless one is running.
 * 2. Applies dist/ as a platform team would: the CRDs and the operator's install. The Deployment has
 *    no node to run on here, so the demo runs the same `kafka-backup operator` with the Deployment's
 *    own flags as a local process, authenticated with the operator's ServiceAccount token: it has
 *    exactly the permissions dist/ grants.
 * 3. Writes orders to a topic on the source cluster and applies a KafkaBackup scheduled every 15
 *    seconds to MinIO; writes more orders and waits for the next, incremental, run; then applies a
 *    KafkaRestore naming the backup (`backupRef.name`) into the target cluster. `kubectl get
 *    kafka-backup` lines show the resources as they change.
 * 4. Checks that the restored topic holds every record, shows the Events and the operator's run
 *    metrics, then stops what it started (`npm run demo -- --keep` leaves everything running).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { down, findRunningEnv, up } from '../test/env/environment.ts';
import { need } from '../test/env/fixture.ts';
import { createTopic, deleteTopic, endOffsets, kafkaConnection, produce } from '../test/env/kafka-client.ts';
import { KubeClient } from '../test/env/kube-client.ts';
import { createS3Bucket, s3Client } from '../test/env/storage-clients.ts';
import { minioSecret, minioStorage } from '../test/integration/operator/operator-env.ts';
import {
  freePort,
  type OperatorReplica,
  startReplica,
} from '../test/integration/operator/operator-replica.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
/** A namespace of its own per run, so a demo can be run again in the same environment. */
const NAMESPACE = `kafka-demo-${Date.now().toString(36)}`;
const keep = process.argv.includes('--keep');
const BATCH = 10_000;

function say(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

interface DemoStatus {
  phase?: string;
  message?: string;
  lastRunId?: string;
  storedRunCount?: number;
  storedRecords?: number;
  recordsRestored?: number;
}

async function main(): Promise<number> {
  let started: string | undefined;
  // An environment already running (`npm run env -- up`, or the tests' own) is used as it is.
  if (!process.env.KAFKA_BACKUP_TEST_ENV && !findRunningEnv()) {
    say('starting the local environment (Kafka x2, kube-apiserver, MinIO); the first time builds it');
    started = (await up(['kafka', 'kube', 's3'])).file;
  }
  let operator: OperatorReplica | undefined;
  const kafka = need('kafka');
  const source = kafkaConnection(kafka, 'source');
  const target = kafkaConnection(kafka, 'target');
  const topic = `orders-${Date.now().toString(36)}`;
  try {
    const admin = KubeClient.admin();
    say('kubectl apply -f dist/: the five CRDs, the operator namespace, ServiceAccount and RBAC');
    const crds = readdirSync(path.join(ROOT, 'dist')).filter((f) => f.startsWith('00-crd-'));
    // Server-side apply, as the README says for dist/ (and as Argo CD and Flux apply).
    await applyServerSide(
      admin,
      crds.map((f) => readFileSync(path.join(ROOT, 'dist', f), 'utf8')).join('\n---\n'),
    );
    await admin.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    const install = parseAllDocuments(readFileSync(path.join(ROOT, 'dist/10-operator.yaml'), 'utf8')).map(
      (d) => d.toJSON() as { kind: string },
    );
    // Everything but the workload: this environment has no node to run the Deployment's Pods.
    await applyServerSide(
      admin,
      install
        .filter((m) => !['Deployment', 'PodDisruptionBudget'].includes(m.kind))
        .map((m) => stringify(m))
        .join('---\n'),
    );
    await admin.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }]);

    say('starting the operator with the Deployment flags, as the kafka-backup-operator ServiceAccount');
    const deployment = install.find((m) => m.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    const metricsPort = await freePort();
    const args = (deployment.spec.template.spec.containers[0]?.args ?? [])
      .filter((a) => a !== 'operator' && !/^--(metrics|health-probe)-bind-address=/.test(a))
      .concat([`--metrics-bind-address=127.0.0.1:${metricsPort}`, '--health-probe-bind-address=0']);
    const kubeconfig = await admin.writeServiceAccountKubeconfig('kafka-backup', 'kafka-backup-operator');
    // Watching the demo's namespace only, so resources other runs left in a reused environment stay out.
    operator = startReplica('demo-operator', { kubeconfig, watched: NAMESPACE, args });
    const quiet = operator;
    quiet.child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(quiet.output().slice(-4000));
    });

    await createTopic(source, topic, { partitions: 3 });
    say(`writing ${BATCH} orders to ${topic} on the source cluster`);
    await writeOrders(source, topic, 0);

    const s3 = need('s3');
    const bucket = await createS3Bucket(s3Client(s3), 'demo');
    await admin.apply([minioSecret(s3, 's3-credentials')], NAMESPACE);
    say('applying a KafkaBackup of the topic to MinIO, every 15 seconds (schedule: "*/15 * * * * *")');
    await admin.apply(
      [
        {
          apiVersion: 'kafka.oso.sh/v1alpha1',
          kind: 'KafkaBackup',
          metadata: { name: 'orders-backup' },
          spec: {
            kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
            topics: [topic],
            storage: minioStorage(s3, bucket, 's3-credentials'),
            schedule: '*/15 * * * * *',
            stopAtCurrentOffsets: true,
          },
        },
      ],
      NAMESPACE,
    );
    await watch(admin, 'kafkabackup/orders-backup', (s) => (s.storedRecords ?? 0) >= BATCH);

    say(`writing ${BATCH} more orders; the next scheduled run backs up only those`);
    await writeOrders(source, topic, BATCH);
    await watch(admin, 'kafkabackup/orders-backup', (s) => (s.storedRecords ?? 0) >= 2 * BATCH);

    say('applying a KafkaRestore that names the backup (backupRef.name) into the target cluster');
    await admin.apply(
      [
        {
          apiVersion: 'kafka.oso.sh/v1alpha1',
          kind: 'KafkaRestore',
          metadata: { name: 'orders-restore' },
          spec: {
            backupRef: { name: 'orders-backup' },
            kafkaCluster: { bootstrapServers: [kafka.target.bootstrap] },
            topicMapping: { [topic]: `${topic}-restored` },
            createTopics: true,
          },
        },
      ],
      NAMESPACE,
    );
    await watch(admin, 'kafkarestore/orders-restore', (s) => s.phase === 'Completed');

    say('kubectl get kafka-backup');
    process.stdout.write(await admin.kubectl(['get', 'kafka-backup', '-n', NAMESPACE]));
    say('kubectl get events');
    process.stdout.write(
      await admin.kubectl([
        'get',
        'events.events.k8s.io',
        '-n',
        NAMESPACE,
        '--sort-by=.metadata.creationTimestamp',
      ]),
    );
    say('the operator metrics (runs by kind and result)');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    process.stdout.write(
      `${metrics
        .split('\n')
        .filter((l) => /^kafka_backup_\w*runs_total\{/.test(l))
        .join('\n')}\n`,
    );

    const restored = (await endOffsets(target, `${topic}-restored`)).reduce((a, b) => a + Number(b), 0);
    say(`restored ${restored} of ${2 * BATCH} orders into ${topic}-restored on the target cluster`);
    return restored === 2 * BATCH ? 0 : 1;
  } finally {
    await operator?.stop();
    if (!keep) {
      await deleteTopic(source, topic).catch(() => {});
      await deleteTopic(target, `${topic}-restored`).catch(() => {});
    }
    if (started && !keep) {
      say('stopping the environment this demo started (npm run demo -- --keep leaves it running)');
      await down(started);
    }
  }
}

function applyServerSide(admin: KubeClient, yaml: string): Promise<string> {
  return admin.kubectl(['apply', '--server-side', '-f', '-'], { input: yaml });
}

async function writeOrders(connection: ReturnType<typeof kafkaConnection>, topic: string, from: number) {
  await produce(
    connection,
    topic,
    Array.from({ length: BATCH }, (_, k) => ({
      partition: (from + k) % 3,
      key: `customer-${(from + k) % 97}`,
      value: JSON.stringify({ order: from + k, amount: ((from + k) * 7) % 1000 }),
      headers: [['source', 'demo']] as [string, string][],
    })),
  );
}

/** Prints `kubectl get` lines while a resource works, until `done` holds for its status. */
async function watch(admin: KubeClient, resource: string, done: (s: DemoStatus) => boolean) {
  const deadline = Date.now() + 300_000;
  let last = '';
  while (Date.now() < deadline) {
    const object = await admin.getJson<{ status?: DemoStatus }>(['-n', NAMESPACE, resource]);
    const line = (await admin.kubectl(['get', '-n', NAMESPACE, resource])).trim();
    if (line !== last) process.stdout.write(`${line}\n`);
    last = line;
    const status = object.status ?? {};
    if (done(status)) return;
    if (status.phase === 'Failed') throw new Error(`${resource} failed: ${status.message ?? ''}`);
    await delay(1000);
  }
  throw new Error(`${resource} did not finish within 5 minutes`);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
