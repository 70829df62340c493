/**
 * Sub-schemas shared by several kinds. Each is written once here and reused, so `kafkaCluster`,
 * `storage`, secret references, schedules and status blocks mean the same in all five CRDs.
 */
import {
  CRON_5_FIELDS,
  CRON_FIELD_COUNT,
  CRON_MESSAGES,
  CRON_SECONDS_FIRST,
  CRON_SHORTHAND,
} from './cron.ts';
import { array, boolean, describe, integer, map, object, type Rule, type Schema, string } from './schema.ts';

// ---- names ----------------------------------------------------------------------------------------

/** A Kubernetes object name (DNS subdomain), e.g. a Secret or PVC. */
export function k8sName(description: string): Schema {
  return string(description, {
    minLength: 1,
    maxLength: 253,
    rules: [
      {
        rule: "self.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')",
        message:
          "must be a Kubernetes object name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, e.g. 's3-credentials'",
      },
    ],
  });
}

/** A key inside a Secret's data. */
export function secretKey(description: string, defaultKey?: string): Schema {
  return string(description, {
    minLength: 1,
    maxLength: 253,
    rules: [
      {
        rule: "self.matches('^[-._a-zA-Z0-9]+$')",
        message: "must be a Secret data key: letters, digits, '-', '_' and '.', e.g. 'password' or 'ca.crt'",
      },
    ],
    ...(defaultKey ? { default: defaultKey } : {}),
  });
}

export const TOPIC_NAME_MAX = 249;
export const MAX_TOPICS = 1000;
export const MAX_GROUPS = 1000;

export function topicName(description: string): Schema {
  return string(description, {
    minLength: 1,
    maxLength: TOPIC_NAME_MAX,
    rules: [
      {
        rule: "self.matches('^[a-zA-Z0-9._-]+$')",
        message:
          "a topic name may contain only letters, digits, '.', '_' and '-' (max 249 characters), e.g. 'orders.v2'",
      },
    ],
  });
}

export function topicPattern(description: string): Schema {
  return string(description, {
    minLength: 1,
    maxLength: TOPIC_NAME_MAX,
    rules: [
      {
        rule: "self.matches('^[a-zA-Z0-9._*?-]+$')",
        message:
          "a topic pattern may contain only letters, digits, '.', '_', '-' and the wildcards '*' (any characters) and '?' (one character), e.g. 'events-*'",
      },
    ],
  });
}

/** Rule for a map keyed by topic names (topicMapping, repartitioning). */
export function topicKeysRule(field: string, what: string): Rule {
  return {
    rule: "self.all(k, size(k) <= 249 && k.matches('^[a-zA-Z0-9._-]+$'))",
    message: `${field} keys are ${what}: letters, digits, '.', '_' and '-' (max 249 characters), e.g. 'orders'`,
  };
}

export function consumerGroupList(description: string, minItems = 0): Schema {
  return array(description, string('A consumer group id.', { minLength: 1, maxLength: 255 }), {
    ...(minItems ? { minItems } : {}),
    maxItems: MAX_GROUPS,
    listType: 'set',
  });
}

// ---- secrets --------------------------------------------------------------------------------------

/**
 * A reference to a Secret in the resource's namespace. Secrets are always referenced, never
 * inlined: the operator reads them when a run starts and never copies them into status or Events.
 */
export function secretRef(
  description: string,
  keys: Record<string, { description: string; default?: string }>,
  opts: { requiredKeys?: string[] } = {},
): Schema {
  const properties: Record<string, Schema> = {
    name: k8sName('Name of the Secret, in the same namespace as this resource.'),
  };
  for (const [key, spec] of Object.entries(keys)) properties[key] = secretKey(spec.description, spec.default);
  return object(description, properties, { required: ['name', ...(opts.requiredKeys ?? [])] });
}

// ---- kafka cluster --------------------------------------------------------------------------------

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

const saslSecret: Schema = object(
  'SASL mechanism and the Secret holding its username and password. Required with securityProtocol SASL_PLAINTEXT or SASL_SSL.',
  {
    name: k8sName('Name of the Secret, in the same namespace as this resource.'),
    mechanism: string('SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.', { enum: SASL_MECHANISMS }),
    usernameKey: secretKey('Key of the username in the Secret.', 'username'),
    passwordKey: secretKey('Key of the password in the Secret.', 'password'),
  },
  { required: ['name', 'mechanism'] },
);

const protocol = "(has(self.securityProtocol) ? self.securityProtocol : 'PLAINTEXT')";

export const kafkaCluster: Schema = object(
  'How to connect to the Kafka cluster: bootstrap servers, security protocol, TLS and SASL material (always referenced from Secrets) and TCP tuning.',
  {
    bootstrapServers: array(
      "Initial brokers to contact, as host:port (e.g. 'kafka:9092' or 'my-cluster-kafka-bootstrap.kafka.svc:9093'). The client discovers the rest of the cluster from them.",
      string('A broker address, host:port.', {
        minLength: 3,
        maxLength: 261,
        rules: [
          {
            rule: "self.matches('^(\\\\[[0-9a-fA-F:.]+\\\\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[0-9]{1,5}$')",
            message:
              "a bootstrap server must be host:port, e.g. 'kafka:9092' or '[::1]:9092' (no scheme, no path)",
          },
        ],
      }),
      { minItems: 1, maxItems: 100 },
    ),
    clientId: string(
      "Prefix of the Kafka client id the brokers see (quotas, logs); the role of each connection is appended. Defaults to 'kafka-backup'.",
      {
        minLength: 1,
        maxLength: 255,
      },
    ),
    securityProtocol: string(
      'Kafka security protocol: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL over TLS). Without caSecret/tlsSecret, TLS trusts the system CA roots.',
      { enum: SECURITY_PROTOCOLS, default: 'PLAINTEXT' },
    ),
    tlsSecret: withTlsRules(
      secretRef(
        'Secret with TLS material: the CA that signed the brokers, and optionally a client certificate and key for mutual TLS. Requires securityProtocol SSL or SASL_SSL.',
        {
          caKey: {
            description: 'Key of the PEM CA certificate in the Secret. Ignored when caSecret is set.',
            default: 'ca.crt',
          },
          certKey: {
            description:
              'Key of the PEM client certificate, for mutual TLS. Omit it (and keyKey) for server-only TLS.',
          },
          keyKey: { description: 'Key of the PEM client private key, for mutual TLS. Set it with certKey.' },
        },
      ),
    ),
    caSecret: secretRef(
      "Secret holding only the CA certificate that signed the brokers (e.g. Strimzi's '<cluster>-cluster-ca-cert'). Overrides the CA from tlsSecret. Requires securityProtocol SSL or SASL_SSL.",
      { caKey: { description: 'Key of the PEM CA certificate in the Secret.', default: 'ca.crt' } },
    ),
    saslSecret,
    connection: object('TCP tuning of the connections to the brokers. Omitted fields keep their defaults.', {
      tcpKeepalive: boolean('Send TCP keepalives on idle connections.', { default: true }),
      keepaliveTimeSecs: integer('Idle seconds before the first keepalive probe.', {
        minimum: 1,
        maximum: 7200,
        default: 60,
      }),
      tcpNodelay: boolean("Disable Nagle's algorithm (lower latency for small requests).", { default: true }),
      connectionsPerBroker: integer('Parallel connections opened to each broker.', {
        minimum: 1,
        maximum: 64,
        default: 4,
      }),
      connectTimeoutMs: integer('Milliseconds to wait for a TCP (and TLS) connection to a broker.', {
        minimum: 1,
        maximum: 600_000,
        default: 10000,
      }),
      requestTimeoutMs: integer('Milliseconds to wait for the answer to one Kafka request.', {
        minimum: 1,
        maximum: 3_600_000,
        default: 60000,
      }),
    }),
  },
  {
    required: ['bootstrapServers'],
    rules: [
      {
        rule: `!(${protocol} in ['SASL_PLAINTEXT', 'SASL_SSL']) || has(self.saslSecret)`,
        fieldPath: '.saslSecret',
        reason: 'FieldValueRequired',
        message:
          'securityProtocol SASL_PLAINTEXT or SASL_SSL needs SASL credentials: set kafkaCluster.saslSecret with the Secret name and mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)',
      },
      {
        rule: `!has(self.saslSecret) || ${protocol} in ['SASL_PLAINTEXT', 'SASL_SSL']`,
        fieldPath: '.securityProtocol',
        message:
          'saslSecret is set but securityProtocol is not SASL, so the credentials would be ignored: set securityProtocol to SASL_SSL (or SASL_PLAINTEXT), or remove saslSecret',
      },
      {
        rule: `!(has(self.tlsSecret) || has(self.caSecret)) || ${protocol} in ['SSL', 'SASL_SSL']`,
        fieldPath: '.securityProtocol',
        message:
          'tlsSecret or caSecret is set but securityProtocol does not use TLS, so they would be ignored: set securityProtocol to SSL (or SASL_SSL), or remove them',
      },
    ],
  },
);

function withTlsRules(schema: Schema): Schema {
  return {
    ...schema,
    'x-kubernetes-validations': [
      {
        rule: 'has(self.certKey) == has(self.keyKey)',
        fieldPath: '.certKey',
        message:
          'tlsSecret.certKey and tlsSecret.keyKey go together (client certificate and its private key): set both for mutual TLS, or neither for server-only TLS',
      },
    ],
  };
}

// ---- storage --------------------------------------------------------------------------------------

export const STORAGE_TYPES = ['pvc', 's3', 'azure', 'gcs'] as const;

const storageTypeOf = "(has(self.storageType) ? self.storageType : 'pvc')";

const STORAGE_HINTS: Record<(typeof STORAGE_TYPES)[number], string> = {
  pvc: 'storage.pvc {claimName}',
  s3: 'storage.s3 {bucket, region, credentialsSecret}',
  azure: 'storage.azure {container, accountName, and one auth method}',
  gcs: 'storage.gcs {bucket}',
};

/**
 * One error per mistake: "missing" only fires when no other backend is configured either, so a
 * wrong storageType next to a configured backend reports just the backend that does not match.
 * (Besides being clearer, this keeps Kubernetes 1.29 from garbling the field path of a second
 * failing rule on the same object, kubernetes#123475, fixed in 1.30.)
 */
function storageRules(): Rule[] {
  const rules: Rule[] = [];
  for (const type of STORAGE_TYPES) {
    const others = STORAGE_TYPES.filter((t) => t !== type)
      .map((t) => `has(self.${t})`)
      .join(' || ');
    rules.push({
      rule: `${storageTypeOf} != '${type}' || has(self.${type}) || ${others}`,
      fieldPath: `.${type}`,
      reason: 'FieldValueRequired',
      message: `storageType is ${type} but storage.${type} is missing: add ${STORAGE_HINTS[type]}, or set storageType to the backend you configured`,
    });
    rules.push({
      rule: `!has(self.${type}) || ${storageTypeOf} == '${type}'`,
      fieldPath: '.storageType',
      message: `storage.${type} is set but storageType is not ${type}: set storageType: ${type}, or remove storage.${type} (only the sub-object matching storageType may be set; storageType defaults to pvc)`,
    });
  }
  return rules;
}

const objectPrefix = (what: string) =>
  string(
    `Key prefix under which ${what} are written, e.g. 'prod/kafka'. No leading slash; a trailing slash is implied.`,
    {
      maxLength: 512,
      rules: [
        {
          rule: "!self.startsWith('/')",
          message: "prefix must not start with '/': write 'prod/kafka', not '/prod/kafka'",
        },
      ],
    },
  );

const httpEndpoint = (description: string) =>
  string(description, {
    maxLength: 2048,
    rules: [
      {
        rule: "self.matches('^https?://[^ /]+(/[^ ]*)?$')",
        message: "endpoint must be an http:// or https:// URL, e.g. 'https://minio.storage.svc:9000'",
      },
    ],
  });

export const s3Storage: Schema = object(
  'Amazon S3 or an S3-compatible store (MinIO, Ceph RGW, ...).',
  {
    bucket: string('Bucket name.', { minLength: 3, maxLength: 63 }),
    region: string(
      "Bucket region, e.g. 'us-west-2'. S3-compatible stores accept any value, e.g. 'us-east-1'.",
      {
        minLength: 1,
        maxLength: 64,
      },
    ),
    endpoint: httpEndpoint(
      'Endpoint URL for S3-compatible stores or private endpoints. Omit it for AWS S3. An http:// endpoint needs allowHttp: true.',
    ),
    pathStyle: boolean(
      'Address the bucket in the path (https://host/bucket/key) instead of the host name. Most S3-compatible stores (MinIO) need it.',
      { default: false },
    ),
    allowHttp: boolean('Allow a plain-HTTP endpoint. Data and signatures then travel unencrypted.', {
      default: false,
    }),
    prefix: objectPrefix('backups'),
    credentialsSecret: secretRef(
      'Secret with static access keys. When omitted, the AWS default credential chain is used (IRSA, EKS Pod Identity, instance profile).',
      {
        accessKeyIdKey: {
          description: 'Key of the access key id in the Secret.',
          default: 'AWS_ACCESS_KEY_ID',
        },
        secretAccessKeyKey: {
          description: 'Key of the secret access key in the Secret.',
          default: 'AWS_SECRET_ACCESS_KEY',
        },
      },
    ),
  },
  {
    required: ['bucket', 'region'],
    rules: [
      {
        rule: "!has(self.endpoint) || !self.endpoint.startsWith('http://') || (has(self.allowHttp) && self.allowHttp)",
        fieldPath: '.allowHttp',
        message:
          'endpoint uses plain http:// but allowHttp is not true: set allowHttp: true to accept unencrypted traffic, or use an https:// endpoint',
      },
    ],
  },
);

export const azureStorage: Schema = object(
  'Azure Blob Storage. Authenticate with exactly one of credentialsSecret (account key), sasTokenSecret, servicePrincipalSecret or useWorkloadIdentity; with none, the DefaultAzureCredential chain is used.',
  {
    container: string('Blob container name (3-63 lowercase letters, digits and hyphens).', {
      minLength: 3,
      maxLength: 63,
      rules: [
        {
          rule: "self.matches('^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')",
          message:
            "container must be 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, e.g. 'kafka-backups'",
        },
      ],
    }),
    accountName: string('Storage account name (3-24 lowercase letters and digits).', {
      minLength: 3,
      maxLength: 24,
      rules: [
        {
          rule: "self.matches('^[a-z0-9]+$')",
          message: "accountName must be 3-24 lowercase letters and digits, e.g. 'prodbackups'",
        },
      ],
    }),
    prefix: objectPrefix('backups'),
    endpoint: httpEndpoint(
      "Blob service endpoint for sovereign clouds, private endpoints or Azurite, e.g. 'https://myaccount.blob.core.usgovcloudapi.net'. Defaults to https://<accountName>.blob.core.windows.net.",
    ),
    useWorkloadIdentity: boolean(
      'Authenticate with AKS Workload Identity (client id, tenant id and token file come from the pod environment).',
      { default: false },
    ),
    credentialsSecret: secretRef('Secret with the storage account key.', {
      accountKeyKey: { description: 'Key of the account key in the Secret.', default: 'AZURE_STORAGE_KEY' },
    }),
    sasTokenSecret: secretRef('Secret with a SAS token for the container.', {
      sasTokenKey: { description: 'Key of the SAS token in the Secret.', default: 'AZURE_SAS_TOKEN' },
    }),
    servicePrincipalSecret: secretRef('Secret with a service principal (client secret credential).', {
      clientIdKey: { description: 'Key of the client id in the Secret.', default: 'AZURE_CLIENT_ID' },
      tenantIdKey: { description: 'Key of the tenant id in the Secret.', default: 'AZURE_TENANT_ID' },
      clientSecretKey: {
        description: 'Key of the client secret in the Secret.',
        default: 'AZURE_CLIENT_SECRET',
      },
    }),
  },
  {
    required: ['container', 'accountName'],
    rules: [
      {
        rule: '(has(self.credentialsSecret) ? 1 : 0) + (has(self.sasTokenSecret) ? 1 : 0) + (has(self.servicePrincipalSecret) ? 1 : 0) + ((has(self.useWorkloadIdentity) && self.useWorkloadIdentity) ? 1 : 0) <= 1',
        message:
          'Azure authentication methods are mutually exclusive: keep only one of credentialsSecret (account key), sasTokenSecret, servicePrincipalSecret or useWorkloadIdentity: true',
      },
    ],
  },
);

export const gcsStorage: Schema = object(
  'Google Cloud Storage.',
  {
    bucket: string('Bucket name.', { minLength: 3, maxLength: 222 }),
    prefix: objectPrefix('backups'),
    endpoint: httpEndpoint(
      'API endpoint for private endpoints or emulators. Omit it for Google Cloud Storage itself.',
    ),
    credentialsSecret: secretRef(
      'Secret with a service account key (JSON). When omitted, Application Default Credentials are used (GKE Workload Identity).',
      {
        serviceAccountJsonKey: {
          description: 'Key of the service account JSON in the Secret.',
          default: 'SERVICE_ACCOUNT_JSON',
        },
      },
    ),
  },
  { required: ['bucket'] },
);

export const pvcStorage: Schema = object(
  'A PersistentVolumeClaim holding the backups, in the same namespace as this resource.',
  {
    claimName: k8sName('Name of the PersistentVolumeClaim, in the same namespace as this resource.'),
    subPath: string("Directory inside the volume, e.g. 'kafka/prod'. Relative, without '..'.", {
      maxLength: 512,
      rules: [
        {
          rule: "!self.startsWith('/') && !self.contains('..')",
          message: "subPath must be a relative path without '..', e.g. 'kafka/prod'",
        },
      ],
    }),
    create: object('Have the operator create the claim when it does not exist.', {
      enabled: boolean('Create the claim if it is missing. The operator never deletes it.', {
        default: false,
      }),
      storageClassName: string('StorageClass of the created claim. Omit it for the cluster default.', {
        maxLength: 253,
      }),
      size: string("Requested size of the created claim, as a Kubernetes quantity, e.g. '100Gi'.", {
        default: '100Gi',
        maxLength: 32,
        rules: [
          {
            rule: "self.matches('^[0-9]+(\\\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$')",
            message: "size must be a Kubernetes quantity, e.g. '100Gi' or '500G'",
          },
        ],
      }),
      accessModes: array(
        'Access modes of the created claim.',
        string('An access mode.', {
          enum: ['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod', 'ReadOnlyMany'],
        }),
        { minItems: 1, maxItems: 4, listType: 'set', default: ['ReadWriteOnce'] },
      ),
    }),
  },
  { required: ['claimName'] },
);

export function storage(description: string): Schema {
  return object(
    description,
    {
      storageType: string(
        'Which backend holds the backups: pvc, s3, azure or gcs. Only the sub-object of that name may be set, and it must be set.',
        { enum: STORAGE_TYPES, default: 'pvc' },
      ),
      pvc: pvcStorage,
      s3: s3Storage,
      azure: azureStorage,
      gcs: gcsStorage,
    },
    { rules: storageRules() },
  );
}

// ---- tuning ---------------------------------------------------------------------------------------

export const rateLimiting: Schema = object('Throughput limits, to protect the cluster during a run.', {
  recordsPerSec: integer('Maximum records per second; 0 means unlimited.', { minimum: 0, default: 0 }),
  bytesPerSec: integer('Maximum bytes per second; 0 means unlimited.', { minimum: 0, default: 0 }),
  maxConcurrentPartitions: integer('Partitions processed in parallel.', {
    minimum: 1,
    maximum: 1024,
    default: 4,
  }),
});

export const circuitBreaker: Schema = object(
  'Stop calling a failing dependency (broker or storage) for a while after repeated failures, instead of hammering it.',
  {
    enabled: boolean('Enable the circuit breaker.', { default: true }),
    failureThreshold: integer('Consecutive failures that open the circuit.', {
      minimum: 1,
      maximum: 1000,
      default: 5,
      format: 'int32',
    }),
    resetTimeoutSecs: integer('Seconds the circuit stays open before a trial call.', {
      minimum: 1,
      maximum: 3600,
      default: 60,
    }),
    successThreshold: integer('Consecutive successful trial calls that close the circuit again.', {
      minimum: 1,
      maximum: 1000,
      default: 3,
      format: 'int32',
    }),
    operationTimeoutMs: integer(
      "Timeout in milliseconds of one storage call (a metadata call, a delete, a write of a document or segment held in memory, a ranged read), per started 16 MiB it transfers; a timeout counts as a failure and is retried. Streamed uploads and whole-object reads, whose size is not known in advance, are bounded by the storage client's socket timeouts instead.",
      { minimum: 1, maximum: 3_600_000, default: 30000 },
    ),
  },
);

export const encryption: Schema = object(
  'Client-side encryption of backup data with AES-256-GCM before it leaves the pod. The key is read from a Secret and never stored with the backup; keep a copy of it, since without the key the backup cannot be restored.',
  {
    algorithm: string('Encryption algorithm.', { enum: ['AES-256-GCM'], default: 'AES-256-GCM' }),
    keySecret: secretRef(
      "Secret holding the 256-bit key: 32 bytes, given raw, as 64 hex digits or base64 (e.g. generated with 'openssl rand -base64 32').",
      { key: { description: 'Key of the encryption key in the Secret.', default: 'encryption.key' } },
    ),
  },
  { required: ['keySecret'] },
);

export const decryption: Schema = describe(
  encryption,
  'Key to decrypt a client-side encrypted backup (AES-256-GCM). Defaults to the encryption settings of the referenced KafkaBackup; set it when reading storage directly or when the key moved.',
);

// ---- runs -----------------------------------------------------------------------------------------

export const RERUN_ANNOTATION = 'kafka.oso.sh/rerun';

export const activeDeadlineSeconds = integer(
  'Deadline of one run in seconds: a run still going after that long is stopped and marked Failed with reason DeadlineExceeded. Omit it for no deadline.',
  { minimum: 1, maximum: 31_536_000 },
);

/**
 * The `metrics` block of the kinds that move data (runtime/config/metrics.ts). `partitionLabels`:
 * the kind has per-partition series (backups' lag).
 */
export function runMetrics(noun: 'backup' | 'restore', options: { partitionLabels: boolean }): Schema {
  const cli = `Where kafka-backup ${noun} serves them when it runs this spec, and where a run the operator executes as a Job serves them from its Pod (runs in the operator's process are on its own /metrics)`;
  return object(
    `Prometheus metrics of this ${noun}'s runs (docs/metrics.md): the operator serves them on its /metrics; kafka-backup ${noun} and runs executed as Jobs serve them on bindAddress:port + path while they run, when this block is present.`,
    {
      enabled: boolean(
        `Export this ${noun}'s series (records, bytes, segments, commits${options.partitionLabels ? ', lag' : ''}, progress, retries, errors, the last success) on the operator's /metrics, and serve them from kafka-backup ${noun}. The totals by kind (runs, durations, records, bytes) count every ${noun} and name none.`,
        { default: true },
      ),
      port: integer(`${cli}: the port.`, { minimum: 1, maximum: 65535, default: 9090, format: 'int32' }),
      bindAddress: string(`${cli}: the address to listen on (0.0.0.0: every interface).`, {
        default: '0.0.0.0',
        maxLength: 64,
        pattern: '^[^\\s]+$',
      }),
      path: string(`${cli}: the URL path.`, {
        default: '/metrics',
        maxLength: 256,
        pattern: '^/[^\\s?#]*$',
      }),
      updateIntervalMs: integer(
        'How often the figures of a running run are published, in milliseconds (the operator and the CLI).',
        { minimum: 1, maximum: 3_600_000, default: 500 },
      ),
      ...(options.partitionLabels
        ? {
            maxPartitionLabels: integer(
              'Partitions with a lag series of their own (kafka_backup_partition_lag_records); the others are summed into one series with topic="__other__". 0: every partition.',
              { minimum: 0, maximum: 100_000, default: 100 },
            ),
          }
        : {}),
    },
  );
}

export const APPROVAL_POLICIES = ['Automatic', 'Manual'] as const;

export function approval(destructive: string): Schema {
  return object(
    `Approval gate for a destructive action (${destructive}). With policy Manual the operator validates the spec, publishes its plan in status and waits in phase AwaitingApproval (condition Approved=False) until approved is true. The spec is immutable once a run has started, except approval.approved.`,
    {
      policy: string(
        'Automatic runs at once (the behaviour of the previous operator); Manual waits for approved: true.',
        { enum: APPROVAL_POLICIES, default: 'Automatic' },
      ),
      approved: boolean(
        'Set to true (in Git or with kubectl patch) after reviewing the plan in status to let the run proceed. Covers re-runs requested with the kafka.oso.sh/rerun annotation too.',
        { default: false },
      ),
    },
  );
}

// ---- schedules ------------------------------------------------------------------------------------

export function scheduleFields(what: string): Record<string, Schema> {
  return {
    schedule: string(
      `When to run ${what}, as cron: the seconds-first form of the previous operator with 6 or 7 fields (second minute hour day-of-month month day-of-week [year], e.g. '0 0 * * * * *' = hourly), the standard 5-field form (minute hour day-of-month month day-of-week, e.g. '0 * * * *'), or @hourly, @daily, @weekly, @monthly, @yearly. Day of week: 1 = Sunday ... 7 = Saturday in the seconds-first form (as the previous operator), 0 and 7 = Sunday in the 5-field form; in the seconds-first form a restricted day-of-month and day-of-week must both match, in the 5-field form either does. Evaluated in timeZone. Runs missed while the operator was down are made up by one run, not one per missed time. Omit it to run once.`,
      {
        minLength: 1,
        maxLength: 128,
        rules: [
          {
            rule: `self.startsWith('@') || self.matches('${CRON_FIELD_COUNT}')`,
            message: CRON_MESSAGES.fieldCount,
          },
          {
            rule: `!self.startsWith('@') || self.matches('${CRON_SHORTHAND}')`,
            message: CRON_MESSAGES.shorthand,
          },
          {
            rule: `self.startsWith('@') || !self.matches('${CRON_FIELD_COUNT}') || self.matches('${CRON_5_FIELDS}') || self.matches('${CRON_SECONDS_FIRST}')`,
            message: CRON_MESSAGES.fieldValue,
          },
        ],
      },
    ),
    timeZone: string(
      "IANA time zone the schedule is evaluated in, e.g. 'Europe/London' or 'America/New_York'. Daylight-saving changes follow the zone's rules. Defaults to UTC.",
      {
        maxLength: 64,
        rules: [
          {
            rule: "self.matches('^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$')",
            message:
              "timeZone must be an IANA time zone name such as 'UTC', 'Europe/London' or 'America/New_York'",
          },
        ],
      },
    ),
    suspend: boolean(
      `Pause the schedule: no new run of ${what} starts while true; a run already going finishes. Set back to false to resume.`,
      { default: false },
    ),
    concurrencyPolicy: string(
      `Runs of ${what} never overlap. Forbid skips a tick while the previous run is still going (the skip is reported as an Event); Replace stops the running one and starts the new run.`,
      { enum: ['Forbid', 'Replace'], default: 'Forbid' },
    ),
    successfulRunsHistoryLimit: integer('How many finished successful runs to keep in status.history.', {
      minimum: 0,
      maximum: 100,
      default: 3,
      format: 'int32',
    }),
    failedRunsHistoryLimit: integer('How many failed runs to keep in status.history.', {
      minimum: 0,
      maximum: 100,
      default: 1,
      format: 'int32',
    }),
  };
}

/** Rules that tie the schedule-only fields to `schedule`. */
export const scheduleRules: Rule[] = [
  {
    rule: '!has(self.timeZone) || has(self.schedule)',
    fieldPath: '.timeZone',
    message: 'timeZone only applies to a schedule: set schedule, or remove timeZone',
  },
];

// ---- references -----------------------------------------------------------------------------------

export function backupRef(description: string): Schema {
  return object(
    description,
    {
      name: string("Name of the KafkaBackup to read from. May be '' when storage is given directly.", {
        maxLength: 253,
      }),
      namespace: string(
        "Namespace of the KafkaBackup, when it is not this resource's namespace. Its storage Secrets are then read from that namespace.",
        { maxLength: 63 },
      ),
      backupId: string(
        "Which backup set to use, e.g. 'production-backup-20241201-120000'. Defaults to the latest successful backup of the referenced KafkaBackup (status.backupId).",
        { maxLength: 253 },
      ),
      storage: storage(
        'Read the backup straight from storage instead of through a KafkaBackup resource (e.g. in a fresh disaster-recovery cluster). Takes precedence over the KafkaBackup lookup; set backupId with it.',
      ),
    },
    {
      required: ['name'],
      rules: [
        {
          rule: "self.name != '' || has(self.storage)",
          fieldPath: '.name',
          message:
            'backupRef.name is empty: name the KafkaBackup to read from, or give backupRef.storage (and backupId) to read storage directly',
        },
        {
          rule: '!has(self.storage) || has(self.backupId)',
          fieldPath: '.backupId',
          reason: 'FieldValueRequired',
          message:
            "backupRef.storage is set without backupId: set backupId to the backup set to read (e.g. 'production-backup-20241201-120000', as in a KafkaBackup's status.backupId), since there is no KafkaBackup status to take the latest one from",
        },
      ],
    },
  );
}

// ---- status ---------------------------------------------------------------------------------------

export const conditions: Schema = array(
  'Current state as Kubernetes conditions: Ready (the last run or the schedule is healthy), Reconciling (work in progress), Stalled (cannot progress without a spec change), and kind-specific ones such as Approved.',
  object(
    'A condition, as metav1.Condition.',
    {
      type: string('Condition type, e.g. Ready.', { maxLength: 316, minLength: 1 }),
      status: string('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
      observedGeneration: integer('metadata.generation the condition was computed from.', { minimum: 0 }),
      lastTransitionTime: string('When status last changed.', { format: 'date-time', maxLength: 64 }),
      reason: string('CamelCase reason for the last transition, e.g. BackupSucceeded.', {
        maxLength: 1024,
        minLength: 1,
      }),
      message: string('Human-readable detail of the last transition.', { maxLength: 32768 }),
    },
    { required: ['type', 'status', 'lastTransitionTime', 'reason'] },
  ),
  { maxItems: 16, listType: 'map', mapKeys: ['type'] },
);

export function timestamp(description: string): Schema {
  return string(description, { format: 'date-time', maxLength: 64 });
}

export function counter(description: string): Schema {
  return integer(description, { minimum: 0 });
}

/** Status fields every kind has. */
export function commonStatus(phases: readonly string[]): Record<string, Schema> {
  return {
    phase: string(
      `Summary of the state, for printer columns: ${phases.join(', ')}. Use conditions for automation.`,
      {
        maxLength: 64,
      },
    ),
    message: string('Human-readable detail of the current phase.', { maxLength: 32768 }),
    observedGeneration: integer('metadata.generation the operator last acted on.', { minimum: 0 }),
    conditions,
    observedRerun: string(
      `Value of the ${RERUN_ANNOTATION} annotation the operator last acted on; a different value requests a new run.`,
      { maxLength: 253 },
    ),
  };
}

export function runHistory(): Schema {
  return array(
    'Recent runs, newest first, trimmed to successfulRunsHistoryLimit and failedRunsHistoryLimit.',
    object('One run.', {
      id: string('Run id (for backups, the backup set id).', { maxLength: 253 }),
      phase: string('Succeeded or Failed.', { maxLength: 64 }),
      startTime: timestamp('When the run started.'),
      completionTime: timestamp('When the run ended.'),
      message: string('Outcome detail.', { maxLength: 4096 }),
    }),
    { maxItems: 200 },
  );
}

export { map };
