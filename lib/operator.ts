import { ApiObject, Duration, Lazy, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { API_GROUP } from './resource.ts';

/** The five resource types the operator reconciles. */
export const KAFKA_RESOURCE_TYPES = [
  'kafkabackups',
  'kafkarestores',
  'kafkaoffsetresets',
  'kafkaoffsetrollbacks',
  'kafkabackupvalidations',
] as const;

/** The operator image this version of the library was released with. */
export const DEFAULT_OPERATOR_IMAGE = 'ghcr.io/oso/kafka-backup-k8s:0.1.0';

/** Which namespaces the operator watches, and so where it gets permissions. */
export class InstallMode {
  /** Watch every namespace: a ClusterRole and ClusterRoleBinding. */
  public static clusterWide(): InstallMode {
    return new InstallMode(undefined);
  }
  /** Watch only these namespaces: a Role and RoleBinding in each, nothing cluster-wide. */
  public static namespaced(...namespaces: string[]): InstallMode {
    if (namespaces.length === 0) {
      throw new Error(
        'InstallMode.namespaced(): name at least one namespace to watch, or use InstallMode.clusterWide()',
      );
    }
    const dup = namespaces.find((ns, i) => namespaces.indexOf(ns) !== i);
    if (dup) throw new Error(`InstallMode.namespaced(): namespace "${dup}" is listed twice`);
    return new InstallMode([...namespaces].sort());
  }
  private constructor(
    /** The watched namespaces, or undefined for all. */
    public readonly namespaces: readonly string[] | undefined,
  ) {}
}

/** The run Pods' template fragment: where they schedule and what they may use (`--job-template`). */
export interface JobPodTemplate {
  /** Labels and annotations of the run Pods (e.g. for workload identity or cost allocation). */
  readonly metadata?: {
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  /**
   * Pod spec fields: nodeSelector, tolerations, affinity, topologySpreadConstraints,
   * priorityClassName, runtimeClassName, schedulerName, imagePullSecrets, hostNetwork, dnsPolicy,
   * dnsConfig, securityContext, terminationGracePeriodSeconds; and `containers: [{name: run, ...}]`
   * with resources, env, envFrom, imagePullPolicy, securityContext. The operator refuses any other
   * field at start-up, so nothing written here is silently ignored.
   */
  readonly spec?: Record<string, unknown>;
}

/** Options of the Job runner. */
export interface JobRunnerOptions {
  /**
   * The run Jobs' image.
   * @default - the operator's own image
   */
  readonly image?: string;
  /**
   * The run Pods' ServiceAccount, in each resource's namespace (e.g. for workload identity to cloud storage).
   * @default - the namespace's `default`
   */
  readonly serviceAccountName?: string;
  /**
   * A Pod template fragment for the run Pods.
   * @default - none: the operator's restricted defaults only
   */
  readonly podTemplate?: JobPodTemplate;
}

/** Where the operator executes backups, restores, offset operations and validations. */
export class OperatorRunner {
  /**
   * In the operator process (the default): live progress in status, no Pods in users' namespaces,
   * Secrets from any namespace the operator may read.
   */
  public static inProcess(): OperatorRunner {
    return new OperatorRunner(undefined);
  }
  /**
   * Each run as a Kubernetes Job of the operator's image in the resource's namespace, with the
   * resource's Secrets mounted: isolation and resources per run, and runs that outlive the
   * operator Pod (a new leader adopts them). Progress shows when the run ends.
   */
  public static jobs(options: JobRunnerOptions = {}): OperatorRunner {
    return new OperatorRunner(options);
  }
  private constructor(
    /** The Job runner's options, or undefined for in-process. */
    public readonly jobs: JobRunnerOptions | undefined,
  ) {}
}

/** Resources of the operator container. */
export interface OperatorResources {
  /**
   * CPU request and limit.
   * @default - request 100m, limit 1 CPU
   */
  readonly cpu?: kplus.CpuResources;
  /**
   * Memory request and limit. Backups run in the operator's Jobs, so the operator itself stays small.
   * @default - request 128Mi, limit 512Mi
   */
  readonly memory?: kplus.MemoryResources;
}

/** Props of the operator install. */
export interface KafkaBackupOperatorProps {
  /**
   * Namespace the operator runs in.
   * @default 'kafka-backup-system'
   */
  readonly namespace?: string;
  /**
   * Create the namespace. Turn off when it is managed elsewhere (e.g. by Argo CD's CreateNamespace).
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * Which namespaces to watch.
   * @default InstallMode.clusterWide()
   */
  readonly installMode?: InstallMode;
  /**
   * Operator image.
   * @default DEFAULT_OPERATOR_IMAGE
   */
  readonly image?: string;
  /**
   * Replicas. With more than one, leader election on a Lease makes sure only one acts.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Container resources.
   * @default - see OperatorResources
   */
  readonly resources?: OperatorResources;
  /**
   * Secrets the operator may read, by name, in every watched namespace. Add more later with
   * `allowSecrets()` or `allowSecretsOf()`.
   * @default - none; with no names at all, the operator may get (never list) any Secret it watches
   */
  readonly secretNames?: string[];
  /**
   * Create a Prometheus Operator ServiceMonitor for the metrics Service.
   * @default false
   */
  readonly serviceMonitor?: boolean;
  /**
   * Scrape interval of the ServiceMonitor.
   * @default Duration.seconds(30)
   */
  readonly scrapeInterval?: Duration;
  /**
   * Create a NetworkPolicy that admits traffic to the operator pods only on the metrics port.
   * Egress stays open: the operator and its runs must reach the API server, Kafka and storage.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * Log level of the operator.
   * @default 'info'
   */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Where runs execute.
   * @default OperatorRunner.inProcess()
   */
  readonly runner?: OperatorRunner;
}

const NAME = 'kafka-backup-operator';
const METRICS_PORT = 8080;
const HEALTH_PORT = 8081;
const LEASE_NAME = `${NAME}-leader`;
/** Where the Job runner's template is mounted (a ConfigMap, so `kubectl edit` and a restart change it). */
const JOB_TEMPLATE_DIR = '/etc/kafka-backup';
const JOB_TEMPLATE_FILE = 'job-template.yaml';

/**
 * The operator's runtime install: namespace, ServiceAccount, least-privilege RBAC, a Deployment
 * meeting Pod Security `restricted`, a metrics Service, and optionally a ServiceMonitor and a
 * NetworkPolicy. The CRDs themselves are applied from `crds/` (see the example app).
 */
export class KafkaBackupOperator extends Construct {
  /** Namespace the operator runs in. */
  public readonly namespace: string;
  /** The operator's ServiceAccount. */
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The operator Deployment. */
  public readonly deployment: kplus.Deployment;
  /** The metrics Service. */
  public readonly metricsService: kplus.Service;
  /** Which namespaces the operator watches. */
  public readonly installMode: InstallMode;
  private readonly secretNames = new Set<string>();
  private readonly watchRoles: Array<kplus.Role | kplus.ClusterRole> = [];

  public constructor(scope: Construct, id: string, props: KafkaBackupOperatorProps = {}) {
    super(scope, id);
    this.namespace = props.namespace ?? 'kafka-backup-system';
    this.installMode = props.installMode ?? InstallMode.clusterWide();
    const replicas = props.replicas ?? 2;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new Error(`KafkaBackupOperator: replicas must be a whole number of at least 1, got ${replicas}`);
    }
    for (const name of props.secretNames ?? []) this.secretNames.add(name);
    const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/component': 'operator' };
    const metadata = (name: string) => ({ name, namespace: this.namespace, labels });

    if (props.createNamespace ?? true) {
      new kplus.Namespace(this, 'Namespace', {
        metadata: {
          name: this.namespace,
          labels: {
            ...labels,
            // Admission enforces what the Deployment below promises.
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      });
    }

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: metadata(NAME),
      automountToken: true,
    });

    this.createWatchRbac(labels);
    this.createOwnNamespaceRbac(metadata);

    // The image's entrypoint is the `kafka-backup` CLI; `args` replaces its default command.
    const args = [
      'operator',
      `--metrics-bind-address=:${METRICS_PORT}`,
      `--health-probe-bind-address=:${HEALTH_PORT}`,
      '--leader-elect=true',
      `--leader-election-id=${LEASE_NAME}`,
      `--leader-election-namespace=${this.namespace}`,
      `--log-level=${props.logLevel ?? 'info'}`,
      ...(this.installMode.namespaces ? [`--watch-namespaces=${this.installMode.namespaces.join(',')}`] : []),
    ];
    const image = props.image ?? DEFAULT_OPERATOR_IMAGE;
    const jobs = props.runner?.jobs;
    const volumeMounts: kplus.ContainerProps['volumeMounts'] = [
      {
        // The root filesystem is read-only; TLS material and spill files go to a private tmpfs.
        path: '/tmp',
        volume: kplus.Volume.fromEmptyDir(this, 'TmpVolume', 'tmp', {
          medium: kplus.EmptyDirMedium.MEMORY,
          sizeLimit: Size.mebibytes(64),
        }),
      },
    ];
    if (jobs) {
      args.push('--runner=job', `--job-image=${jobs.image ?? image}`);
      if (jobs.serviceAccountName) args.push(`--job-service-account=${jobs.serviceAccountName}`);
      if (jobs.podTemplate) {
        const configMap = new kplus.ConfigMap(this, 'JobTemplate', {
          metadata: metadata(`${NAME}-job-template`),
          // JSON is YAML: the operator reads the file with a YAML parser.
          data: { [JOB_TEMPLATE_FILE]: `${JSON.stringify(jobs.podTemplate, null, 2)}\n` },
        });
        args.push(`--job-template=${JOB_TEMPLATE_DIR}/${JOB_TEMPLATE_FILE}`);
        volumeMounts.push({
          path: JOB_TEMPLATE_DIR,
          readOnly: true,
          volume: kplus.Volume.fromConfigMap(this, 'JobTemplateVolume', configMap, { name: 'job-template' }),
        });
      }
    }

    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: metadata(NAME),
      podMetadata: { labels },
      replicas,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: true,
      securityContext: { ensureNonRoot: true, user: 65532, group: 65532, fsGroup: 65532 },
      terminationGracePeriod: Duration.seconds(30),
      containers: [
        {
          name: 'operator',
          image,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          args,
          envVariables: {
            POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
            POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
          },
          ports: [
            { name: 'metrics', number: METRICS_PORT },
            { name: 'health', number: HEALTH_PORT },
          ],
          liveness: kplus.Probe.fromHttpGet('/healthz', {
            port: HEALTH_PORT,
            initialDelaySeconds: Duration.seconds(10),
            periodSeconds: Duration.seconds(20),
            timeoutSeconds: Duration.seconds(5),
            failureThreshold: 3,
          }),
          readiness: kplus.Probe.fromHttpGet('/readyz', {
            port: HEALTH_PORT,
            initialDelaySeconds: Duration.seconds(5),
            periodSeconds: Duration.seconds(10),
            timeoutSeconds: Duration.seconds(5),
            failureThreshold: 3,
          }),
          resources: {
            cpu: props.resources?.cpu ?? { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
            memory: props.resources?.memory ?? { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
          },
          securityContext: {
            ensureNonRoot: true,
            user: 65532,
            group: 65532,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: [kplus.Capability.ALL] },
            seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
          },
          volumeMounts,
        },
      ],
    });

    if (replicas > 1) {
      // Node drains keep one replica (the leader or its standby) running at all times.
      new kplus.k8s.KubePodDisruptionBudget(this, 'PodDisruptionBudget', {
        metadata: metadata(NAME),
        spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: labels } },
      });
    }

    this.metricsService = new kplus.Service(this, 'MetricsService', {
      metadata: metadata(`${NAME}-metrics`),
      selector: this.deployment,
      ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT }],
    });

    if (props.serviceMonitor ?? false) {
      new ApiObject(this, 'ServiceMonitor', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: metadata(NAME),
        spec: {
          selector: { matchLabels: labels },
          namespaceSelector: { matchNames: [this.namespace] },
          endpoints: [
            {
              port: 'metrics',
              path: '/metrics',
              interval: `${(props.scrapeInterval ?? Duration.seconds(30)).toSeconds()}s`,
            },
          ],
        },
      });
    }

    if (props.networkPolicy ?? true) {
      new kplus.k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
        metadata: metadata(NAME),
        spec: {
          podSelector: { matchLabels: labels },
          policyTypes: ['Ingress'],
          ingress: [{ ports: [{ port: kplus.k8s.IntOrString.fromNumber(METRICS_PORT), protocol: 'TCP' }] }],
        },
      });
    }
  }

  /** Lets the operator read these Secrets (by name) in every watched namespace. */
  public allowSecrets(...names: string[]): void {
    for (const name of names) this.secretNames.add(name);
  }

  /** Lets the operator read exactly the Secrets the given resources reference. */
  public allowSecretsOf(...resources: Array<{ readonly secretNames: readonly string[] }>): void {
    for (const resource of resources) this.allowSecrets(...resource.secretNames);
  }

  private createWatchRbac(labels: Record<string, string>): void {
    const crds = KAFKA_RESOURCE_TYPES.map((t) =>
      kplus.ApiResource.custom({ apiGroup: API_GROUP, resourceType: t }),
    );
    const sub = (suffix: string) =>
      KAFKA_RESOURCE_TYPES.map((t) =>
        kplus.ApiResource.custom({ apiGroup: API_GROUP, resourceType: `${t}/${suffix}` }),
      );
    const jobs = kplus.ApiResource.custom({ apiGroup: 'batch', resourceType: 'jobs' });
    const eventsV1 = kplus.ApiResource.custom({ apiGroup: 'events.k8s.io', resourceType: 'events' });
    const pods = kplus.ApiResource.PODS;

    const grant = (role: kplus.Role | kplus.ClusterRole) => {
      // Reads the specs; patch adds and removes the finalizer.
      role.allow(['get', 'list', 'watch', 'patch', 'update'], ...crds);
      role.allow(['get', 'patch', 'update'], ...sub('status'));
      role.allow(['update'], ...sub('finalizers'));
      // Backups and restores run as Jobs owned by the resource.
      role.allow(['get', 'list', 'watch', 'create', 'delete'], jobs);
      role.allow(['get', 'list', 'watch'], pods);
      role.allow(['create', 'patch'], kplus.ApiResource.EVENTS, eventsV1);
      this.watchRoles.push(role);
    };

    const namespaces = this.installMode.namespaces;
    if (namespaces === undefined) {
      const role = new kplus.ClusterRole(this, 'ClusterRole', { metadata: { name: NAME, labels } });
      grant(role);
      this.createSecretRbac('Secrets', undefined, labels);
      const binding = new kplus.ClusterRoleBinding(this, 'ClusterRoleBinding', {
        metadata: { name: NAME, labels },
        role,
      });
      binding.addSubjects(this.serviceAccount);
      return;
    }
    for (const ns of namespaces) {
      const role = new kplus.Role(this, `Role-${ns}`, { metadata: { name: NAME, namespace: ns, labels } });
      grant(role);
      this.createSecretRbac(`Secrets-${ns}`, ns, labels);
      const binding = new kplus.RoleBinding(this, `RoleBinding-${ns}`, {
        metadata: { name: NAME, namespace: ns, labels },
        role,
      });
      binding.addSubjects(this.serviceAccount);
    }
  }

  /**
   * Secret access lives in its own Role (or ClusterRole), computed at synth time so that
   * allowSecrets()/allowSecretsOf() calls made after construction are included.
   */
  private createSecretRbac(id: string, namespace: string | undefined, labels: Record<string, string>): void {
    const name = `${NAME}-secrets`;
    const rules = Lazy.any({
      produce: () => {
        const names = [...this.secretNames].sort();
        // Without names, `get` on any Secret: still never list or watch, so no Secret is disclosed in bulk.
        return [
          {
            apiGroups: [''],
            resources: ['secrets'],
            verbs: ['get'],
            ...(names.length ? { resourceNames: names } : {}),
          },
        ];
      },
    });
    const subjects = [{ kind: 'ServiceAccount', name: this.serviceAccount.name, namespace: this.namespace }];
    if (namespace === undefined) {
      new kplus.k8s.KubeClusterRole(this, `${id}ClusterRole`, { metadata: { name, labels }, rules });
      new kplus.k8s.KubeClusterRoleBinding(this, `${id}ClusterRoleBinding`, {
        metadata: { name, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects,
      });
      return;
    }
    new kplus.k8s.KubeRole(this, `${id}Role`, { metadata: { name, namespace, labels }, rules });
    new kplus.k8s.KubeRoleBinding(this, `${id}RoleBinding`, {
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects,
    });
  }

  private createOwnNamespaceRbac(
    metadata: (name: string) => { name: string; namespace: string; labels: Record<string, string> },
  ): void {
    const role = new kplus.Role(this, 'LeaderElectionRole', {
      metadata: metadata(`${NAME}-leader-election`),
    });
    const leases = kplus.ApiResource.custom({ apiGroup: 'coordination.k8s.io', resourceType: 'leases' });
    // create cannot be limited by name; everything else is limited to the one Lease.
    role.allow(['create'], leases);
    role.allow(['get', 'update', 'patch'], {
      apiGroup: 'coordination.k8s.io',
      resourceType: 'leases',
      resourceName: LEASE_NAME,
    });
    role.allow(['create', 'patch'], kplus.ApiResource.EVENTS);
    const binding = new kplus.RoleBinding(this, 'LeaderElectionRoleBinding', {
      metadata: metadata(`${NAME}-leader-election`),
      role,
    });
    binding.addSubjects(this.serviceAccount);
  }
}
