/**
 * The Kubernetes Job of one run (pure): named deterministically from the resource and the run id,
 * in the resource's namespace (so it mounts the user's Secrets where they are, never copied),
 * owned by the resource, Pod Security `restricted`, with a podFailurePolicy over the CLI's exit codes
 * and the run request projected from an annotation by the downward API (one object: nothing else to
 * create, own or clean up, and the request is as immutable as the Job).
 */

import { createHash } from 'node:crypto';
import { EXIT } from '../../app/errors.ts';
import { METRICS_DEFAULTS } from '../../config/metrics.ts';
import type { KubeObject } from '../resource.ts';
import type { RunKind, RunRequest } from './run-request.ts';

export const CONTAINER_NAME = 'run';
export const MANAGED_BY = 'kafka-backup-operator';
/** Labels every run Job carries: the owner's uid selects a resource's Jobs (adoption after a failover). */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  ownerKind: 'kafka.oso.sh/owner-kind',
  ownerUid: 'kafka.oso.sh/owner-uid',
  runKind: 'kafka.oso.sh/run-kind',
} as const;
export const RUN_ID_ANNOTATION = 'kafka.oso.sh/run-id';
export const REQUEST_ANNOTATION = 'kafka.oso.sh/run-request';
export const SECRETS_DIR = '/var/run/secrets/kafka-backup';
const REQUEST_DIR = '/etc/kafka-backup/run';
const TERMINATION_LOG = '/dev/termination-log';
/** The Job's own deadline is a backstop: the run stops itself at its deadline, then saves a checkpoint. */
export const DEADLINE_GRACE_SECONDS = 120;

/**
 * Exit codes (runtime/app/errors.ts EXIT) that end the Job at once: the same Pod would fail the
 * same way (a bad spec or a missing Secret key, corrupt data, a bug, a missing backup, a conflict
 * the operator decides about). Kafka and storage errors and signals are counted against
 * backoffLimit: a new Pod may get through a broker or bucket outage, and resumes from the checkpoint.
 */
export const FAIL_JOB_EXIT_CODES = [
  EXIT.unexpected,
  EXIT.usage,
  EXIT.integrity,
  EXIT.notFound,
  EXIT.conflict,
];
export const RETRIED_EXIT_CODES = [EXIT.kafka, EXIT.storage, EXIT.interrupted, EXIT.terminated];

const KIND_PREFIX: Readonly<Record<RunKind, string>> = {
  backup: 'kb',
  restore: 'kr',
  'offset-reset': 'kor',
  'offset-rollback': 'korb',
  validation: 'kbv',
};

/** What the operator's flags configure about run Pods. */
export interface JobSettings {
  readonly image: string;
  /** The Pods' ServiceAccount (cloud storage through workload identity); default the namespace's `default`. */
  readonly serviceAccountName?: string;
  /** A pod template fragment (job-template.ts), merged over the defaults. */
  readonly template?: JobPodTemplate;
  /** Pod retries for Kafka and storage errors. @default 2 */
  readonly backoffLimit?: number;
  /** How long a finished Job stays (its result is read long before). @default 86400 */
  readonly ttlSecondsAfterFinished?: number;
}

/** The parts of a Pod template an operator may set (job-template.ts reads and checks them). */
export interface JobPodTemplate {
  readonly metadata?: {
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: Record<string, unknown>;
  /** Fields of the run container: resources, env, envFrom, imagePullPolicy, securityContext. */
  readonly container?: Record<string, unknown>;
}

/** `<kind prefix>-<resource name>-<hash>`, at most 63 characters (a label value), the same for the same run. */
export function jobNameOf(request: Pick<RunRequest, 'kind' | 'owner' | 'runId'>): string {
  const { owner } = request;
  const hash = createHash('sha256')
    .update(`${request.kind}/${owner.namespace}/${owner.name}/${owner.uid}/${request.runId}`)
    .digest('hex')
    .slice(0, 10);
  const prefix = KIND_PREFIX[request.kind];
  const room = 63 - prefix.length - hash.length - 2;
  const slug = owner.name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, room)
    .replace(/-+$/, '');
  return slug ? `${prefix}-${slug}-${hash}` : `${prefix}-${hash}`;
}

/** The label selector of every run Job of one resource. */
export function selectorOf(ownerUid: string): string {
  return `${LABELS.managedBy}=${MANAGED_BY},${LABELS.ownerUid}=${ownerUid}`;
}

/**
 * The port a backup or restore run serves its metrics on, as `kafka-backup backup|restore` does:
 * when the spec has a metrics block that is not disabled (the CRD's default port 9090).
 */
export function servedMetricsPort(request: RunRequest): number | undefined {
  if (request.kind !== 'backup' && request.kind !== 'restore') return undefined;
  const metrics = (request.spec as { metrics?: { enabled?: unknown; port?: unknown } }).metrics;
  if (!metrics || metrics.enabled === false) return undefined;
  return typeof metrics.port === 'number' ? metrics.port : METRICS_DEFAULTS.port;
}

export function jobManifest(request: RunRequest, settings: JobSettings): KubeObject {
  const { owner } = request;
  const name = jobNameOf(request);
  const labels = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.component]: 'run',
    [LABELS.ownerKind]: owner.kind,
    [LABELS.ownerUid]: owner.uid,
    [LABELS.runKind]: request.kind,
  };
  const template = settings.template ?? {};
  const userContainer = template.container ?? {};
  // Volume names are indexes: Secret names may be longer than a volume name may be.
  const secrets = [...new Set(request.secrets.map((s) => s.name))].sort();
  const secretVolumes = secrets.map((secretName, i) => ({
    name: `secret-${i}`,
    // optional: a missing Secret or key reaches the CLI, which reports it (exit 2, the Job fails at
    // once) instead of a Pod that waits for the mount forever.
    secret: { secretName, optional: true },
  }));
  const env = [
    { name: 'KAFKA_BACKUP_SECRETS_DIR', value: SECRETS_DIR },
    { name: 'HOME', value: '/tmp' },
  ];
  const ours = new Set(env.map((e) => e.name));
  const userEnv = ((userContainer.env as { name: string }[] | undefined) ?? []).filter(
    (e) => !ours.has(e.name),
  );
  const metricsPort = servedMetricsPort(request);
  const container = {
    imagePullPolicy: 'IfNotPresent',
    ...userContainer,
    // The run serves the spec's metrics block on this port (a PodMonitor scrapes it by name).
    ...(metricsPort !== undefined
      ? {
          ports: [
            ...((userContainer.ports as object[] | undefined) ?? []),
            { name: 'metrics', containerPort: metricsPort, protocol: 'TCP' },
          ],
        }
      : {}),
    name: CONTAINER_NAME,
    image: settings.image,
    args: ['run', '--request', `${REQUEST_DIR}/request.json`, '--termination-log', TERMINATION_LOG],
    env: [...env, ...userEnv],
    terminationMessagePath: TERMINATION_LOG,
    terminationMessagePolicy: 'File',
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
      ...((userContainer.securityContext as object | undefined) ?? {}),
    },
    volumeMounts: [
      { name: 'run-request', mountPath: REQUEST_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      ...secrets.map((secretName, i) => ({
        name: `secret-${i}`,
        mountPath: `${SECRETS_DIR}/${secretName}`,
        readOnly: true,
      })),
    ],
  };
  const podSpec = template.spec ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: owner.namespace,
      labels,
      annotations: { [RUN_ID_ANNOTATION]: request.runId },
      ownerReferences: [
        {
          apiVersion: owner.apiVersion,
          kind: owner.kind,
          name: owner.name,
          uid: owner.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      backoffLimit: settings.backoffLimit ?? 2,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished ?? 86_400,
      ...(request.activeDeadlineSeconds
        ? { activeDeadlineSeconds: request.activeDeadlineSeconds + DEADLINE_GRACE_SECONDS }
        : {}),
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          {
            action: 'FailJob',
            onExitCodes: { containerName: CONTAINER_NAME, operator: 'In', values: FAIL_JOB_EXIT_CODES },
          },
          {
            action: 'Count',
            onExitCodes: { containerName: CONTAINER_NAME, operator: 'In', values: RETRIED_EXIT_CODES },
          },
        ],
      },
      template: {
        metadata: {
          labels: { ...template.metadata?.labels, ...labels },
          annotations: {
            ...template.metadata?.annotations,
            [RUN_ID_ANNOTATION]: request.runId,
            [REQUEST_ANNOTATION]: JSON.stringify(request),
          },
        },
        spec: {
          ...(settings.serviceAccountName ? { serviceAccountName: settings.serviceAccountName } : {}),
          // The run talks to Kafka and storage only, never to the Kubernetes API.
          automountServiceAccountToken: false,
          ...podSpec,
          restartPolicy: 'Never',
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            fsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
            ...((podSpec.securityContext as object | undefined) ?? {}),
          },
          containers: [container],
          volumes: [
            {
              name: 'run-request',
              downwardAPI: {
                items: [
                  {
                    path: 'request.json',
                    fieldRef: { fieldPath: `metadata.annotations['${REQUEST_ANNOTATION}']` },
                  },
                ],
              },
            },
            { name: 'tmp', emptyDir: {} },
            ...secretVolumes,
          ],
        },
      },
    },
  };
}
