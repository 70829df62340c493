/**
 * `npm run demo`: the product end to end on this machine, with real components only, installed the
 * way the README's quick start says: `helm install`, then `kubectl apply`.
 *
 * 1. Starts the local environment (two Kafka clusters, kube-apiserver, MinIO) and its node (a real
 *    kubelet on containerd, with the controllers and the scheduler) unless they are running.
 * 2. Builds the operator image from this checkout without a Docker daemon (`npm run image`'s build,
 *    cached by content) and imports it into the node, as a registry pull would.
 * 3. `helm upgrade --install kafka-backup-operator runtime/chart/kafka-backup-operator -n
 *    kafka-backup --create-namespace`, and waits for the operator Pod to be Ready and to hold its
 *    Lease.
 * 4. Writes orders to a topic on the source cluster and applies a KafkaBackup scheduled every 15
 *    seconds to MinIO; writes more orders and waits for the next, incremental, run; then applies a
 *    KafkaRestore naming the backup (`backupRef.name`) into the target cluster. `kubectl get
 *    kafka-backup` lines show the resources as they change.
 * 5. Checks that the restored topic holds every record, shows the Events and the operator's run
 *    metrics (scraped from the Pod through the metrics Service), says where to look next, then
 *    uninstalls and stops what it started (`npm run demo -- --keep` leaves everything running and
 *    prints how to tear it down).
 *
 * The node has no kube-proxy and no cluster DNS: the release runs with `hostNetwork: true` (Kafka and
 * MinIO listen on loopback) and points the in-cluster client at the API server's loopback address.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { KAFKA_RESOURCE_TYPES } from '../lib/operator.ts';
import { cacheDir } from '../test/env/cache.ts';
import { down, findRunningEnv, up } from '../test/env/environment.ts';
import { ensureNode, need } from '../test/env/fixture.ts';
import { loadIntoNode, operatorImage } from '../test/env/images.ts';
import { createTopic, deleteTopic, endOffsets, kafkaConnection, produce } from '../test/env/kafka-client.ts';
import { KubeClient } from '../test/env/kube-client.ts';
import { metricsPath, nodeReleaseValues } from '../test/env/node-release.ts';
import { createS3Bucket, s3Client } from '../test/env/storage-clients.ts';
import { minioSecret, minioStorage } from '../test/integration/operator/operator-env.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const CHART = path.join(ROOT, 'runtime/chart/kafka-backup-operator');
const RELEASE = 'kafka-backup-operator';
const OPERATOR_NAMESPACE = 'kafka-backup';
/** A namespace of its own per run, so a demo can be run again in the same environment. */
const NAMESPACE = `kafka-demo-${Date.now().toString(36)}`;
const keep = process.argv.includes('--keep');
const BATCH = 10_000;
const HELM = { timeoutMs: 300_000 };

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
    say(
      'starting the local environment (Kafka x2, kube-apiserver, MinIO, one node); the first time builds it',
    );
    started = (await up(['kafka', 'kube', 's3', 'tools', 'node'])).file;
  }
  let installed = false;
  const kafka = need('kafka');
  const kube = need('kube');
  const source = kafkaConnection(kafka, 'source');
  const target = kafkaConnection(kafka, 'target');
  const topic = `orders-${Date.now().toString(36)}`;
  const admin = KubeClient.admin();
  const work = mkdtempSync(path.join(tmpdir(), 'kafka-backup-demo-'));
  try {
    const node = await ensureNode();
    say(`building the operator image without a Docker daemon and importing it into node ${node.name}`);
    const image = await operatorImage(cacheDir());
    await loadIntoNode(node, image);
    process.stdout.write(`${image.reference}\n`);

    await admin.kubectl(['create', 'namespace', NAMESPACE]);
    // CRDs that something else applied (the tests apply them with kubectl) cannot be adopted by a
    // release without its labels; then the release leaves them alone, as `crds.install=false` says.
    const crdsByOthers = await foreignCrds(admin);
    const values = {
      crds: { install: !crdsByOthers },
      // The demo's namespace only, so what other runs left in a reused environment stays out.
      ...(await nodeReleaseValues(kube, node, image, {
        watchNamespaces: [NAMESPACE],
        secretNames: ['s3-credentials'],
      })),
    };
    const valuesFile = path.join(work, 'values.yaml');
    writeFileSync(valuesFile, stringify(values));
    say(
      `helm upgrade --install ${RELEASE} runtime/chart/kafka-backup-operator -n ${OPERATOR_NAMESPACE} --create-namespace -f values.yaml --wait`,
    );
    process.stdout.write(stringify(values));
    if (crdsByOthers)
      process.stdout.write('(the CRDs are already installed by kubectl: crds.install=false)\n');
    await admin.helm(
      [
        'upgrade',
        '--install',
        RELEASE,
        CHART,
        '-n',
        OPERATOR_NAMESPACE,
        '--create-namespace',
        '-f',
        valuesFile,
        '--wait',
        '--timeout',
        '180s',
      ],
      HELM,
    );
    installed = true;
    // Our five by name: other CRDs may come and go in a shared cluster (the tests create and delete some).
    await admin.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...KAFKA_RESOURCE_TYPES.map((t) => `crd/${t}.kafka.oso.sh`),
    ]);
    process.stdout.write(
      await admin.kubectl([
        'get',
        'pods',
        '-n',
        OPERATOR_NAMESPACE,
        '-o',
        'wide',
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
      ]),
    );
    await waitForLeader(admin);

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
    say('the operator metrics (runs by kind and result), scraped from the Pod through the metrics Service');
    const metrics = await admin.kubectl(['get', '--raw', metricsPath(OPERATOR_NAMESPACE, RELEASE)]);
    process.stdout.write(
      `${metrics
        .split('\n')
        .filter((l) => /^kafka_backup_\w*runs_total\{/.test(l))
        .join('\n')}\n`,
    );

    const restored = (await endOffsets(target, `${topic}-restored`)).reduce((a, b) => a + Number(b), 0);
    say(`restored ${restored} of ${2 * BATCH} orders into ${topic}-restored on the target cluster`);
    say('where to look next');
    process.stdout.write(
      [
        `kubectl get kafka-backup -n ${NAMESPACE}                    # the resources, their phase and printer columns`,
        `kubectl describe kafkabackup orders-backup -n ${NAMESPACE}  # conditions, stored runs, Events`,
        `kubectl logs -n ${OPERATOR_NAMESPACE} deploy/${RELEASE}          # the operator's structured log`,
        'docs: runtime/operator/README.md, runtime/chart/kafka-backup-operator/README.md, docs/gitops.md',
        keep
          ? `tear down: helm uninstall ${RELEASE} -n ${OPERATOR_NAMESPACE}; npm run env -- down`
          : 'the demo now uninstalls the release and stops what it started (npm run demo -- --keep leaves it running)',
        '',
      ].join('\n'),
    );
    return restored === 2 * BATCH ? 0 : 1;
  } finally {
    if (!keep) {
      await deleteTopic(source, topic).catch(() => {});
      await deleteTopic(target, `${topic}-restored`).catch(() => {});
      if (installed) {
        say(
          `helm uninstall ${RELEASE} -n ${OPERATOR_NAMESPACE} (the CRDs, the resources and the backups stay)`,
        );
        await admin.helm(['uninstall', RELEASE, '-n', OPERATOR_NAMESPACE, '--wait'], HELM).catch(() => {});
      }
      await admin.kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']).catch(() => {});
    }
    rmSync(work, { recursive: true, force: true });
    if (started && !keep) {
      say('stopping the environment this demo started (npm run demo -- --keep leaves it running)');
      await down(started);
    }
  }
}

/** True when the CRDs exist but no Helm release owns them (applied with kubectl, e.g. by the tests). */
async function foreignCrds(admin: KubeClient): Promise<boolean> {
  const crd = await admin.tryKubectl(['get', 'crd', 'kafkabackups.kafka.oso.sh', '-o', 'json']);
  if (crd.code !== 0) return false;
  const annotations = (JSON.parse(crd.stdout) as { metadata: { annotations?: Record<string, string> } })
    .metadata.annotations;
  return annotations?.['meta.helm.sh/release-name'] !== RELEASE;
}

/** The operator Pod is Ready and holds the Lease (its identity is `<Pod name>_<uuid>`). */
async function waitForLeader(admin: KubeClient): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const lease = await admin.tryKubectl([
      'get',
      'lease',
      '-n',
      OPERATOR_NAMESPACE,
      `${RELEASE}-leader`,
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]);
    if (lease.code === 0 && lease.stdout.includes('_')) {
      process.stdout.write(`the Lease ${RELEASE}-leader is held by ${lease.stdout.split('_')[0]}\n`);
      return;
    }
    await delay(1000);
  }
  throw new Error(
    `no operator Pod took the Lease within 2 minutes: kubectl logs -n ${OPERATOR_NAMESPACE} deploy/${RELEASE}`,
  );
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
