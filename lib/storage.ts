import type { Size } from 'cdk8s';
import { type SecretReference, secretName } from './secret-reference.ts';

/** The wire shape of a `storage` block (KafkaBackup, and `backupRef.storage` / `evidence.storage`). */
export interface StorageSpec {
  readonly storageType: 's3' | 'azure' | 'gcs' | 'pvc';
  readonly s3?: {
    bucket: string;
    region: string;
    endpoint?: string;
    pathStyle?: boolean;
    allowHttp?: boolean;
    prefix?: string;
    credentialsSecret?: { name: string; accessKeyIdKey?: string; secretAccessKeyKey?: string };
  };
  readonly azure?: {
    container: string;
    accountName: string;
    prefix?: string;
    endpoint?: string;
    useWorkloadIdentity?: boolean;
    credentialsSecret?: { name: string; accountKeyKey?: string };
    sasTokenSecret?: { name: string; sasTokenKey?: string };
    servicePrincipalSecret?: {
      name: string;
      clientIdKey?: string;
      tenantIdKey?: string;
      clientSecretKey?: string;
    };
  };
  readonly gcs?: {
    bucket: string;
    prefix?: string;
    endpoint?: string;
    credentialsSecret?: { name: string; serviceAccountJsonKey?: string };
  };
  readonly pvc?: {
    claimName: string;
    subPath?: string;
    create?: { enabled: boolean; storageClassName?: string; size?: string; accessModes?: string[] };
  };
}

/** S3 or an S3-compatible store (MinIO, Ceph RGW, ...). */
export interface S3StorageProps {
  /** Bucket name. */
  readonly bucket: string;
  /** Region of the bucket, e.g. `us-west-2` (any value for most S3-compatible stores). */
  readonly region: string;
  /**
   * Endpoint URL of an S3-compatible store.
   * @default - AWS S3 for `region`
   */
  readonly endpoint?: string;
  /**
   * Use path-style addressing (`endpoint/bucket/key`), which MinIO and Ceph usually need.
   * @default false
   */
  readonly pathStyle?: boolean;
  /**
   * Allow a plain `http://` endpoint. Only for test installs: data and credentials cross the network unencrypted.
   * @default false
   */
  readonly allowHttp?: boolean;
  /**
   * Key prefix inside the bucket, so several backups can share one bucket.
   * @default - the bucket root
   */
  readonly prefix?: string;
  /**
   * Secret with the access key id and secret access key.
   * @default - no static keys: the SDK's ambient credentials (IRSA / EKS Pod Identity, instance role)
   */
  readonly credentialsSecret?: SecretReference;
  /**
   * Key of the access key id in `credentialsSecret`.
   * @default 'AWS_ACCESS_KEY_ID'
   */
  readonly accessKeyIdKey?: string;
  /**
   * Key of the secret access key in `credentialsSecret`.
   * @default 'AWS_SECRET_ACCESS_KEY'
   */
  readonly secretAccessKeyKey?: string;
}

/** How the engine authenticates to Azure Blob Storage; the methods are mutually exclusive. */
export class AzureBlobAuth {
  /** A storage account key read from a Secret. */
  public static accountKey(secret: SecretReference, accountKeyKey?: string): AzureBlobAuth {
    return new AzureBlobAuth(() => ({
      credentialsSecret: { name: secretName(secret, 'azure.accountKey'), accountKeyKey },
    }));
  }
  /** A SAS token read from a Secret. */
  public static sasToken(secret: SecretReference, sasTokenKey?: string): AzureBlobAuth {
    return new AzureBlobAuth(() => ({
      sasTokenSecret: { name: secretName(secret, 'azure.sasToken'), sasTokenKey },
    }));
  }
  /** An Entra ID service principal (client id, tenant id and client secret) read from a Secret. */
  public static servicePrincipal(
    secret: SecretReference,
    keys: { clientIdKey?: string; tenantIdKey?: string; clientSecretKey?: string } = {},
  ): AzureBlobAuth {
    return new AzureBlobAuth(() => ({
      servicePrincipalSecret: { name: secretName(secret, 'azure.servicePrincipal'), ...keys },
    }));
  }
  /** AKS Workload Identity: no Secret at all, the token comes from the operator pod's federated identity. */
  public static workloadIdentity(): AzureBlobAuth {
    return new AzureBlobAuth(() => ({ useWorkloadIdentity: true }));
  }

  private constructor(private readonly produce: () => Partial<NonNullable<StorageSpec['azure']>>) {
    produce(); // validates secret references eagerly
  }

  /** @internal */
  public _toSpec(): Partial<NonNullable<StorageSpec['azure']>> {
    return this.produce();
  }
}

/** Azure Blob Storage. */
export interface AzureBlobStorageProps {
  /** Blob container name. */
  readonly container: string;
  /** Storage account name. */
  readonly accountName: string;
  /** How to authenticate. */
  readonly auth: AzureBlobAuth;
  /**
   * Blob name prefix.
   * @default - the container root
   */
  readonly prefix?: string;
  /**
   * Blob endpoint for sovereign clouds, private endpoints or Azurite.
   * @default - https://<accountName>.blob.core.windows.net
   */
  readonly endpoint?: string;
}

/** Google Cloud Storage. */
export interface GcsStorageProps {
  /** Bucket name. */
  readonly bucket: string;
  /**
   * Secret with a service account JSON key.
   * @default - no key: ambient credentials (GKE Workload Identity)
   */
  readonly credentialsSecret?: SecretReference;
  /**
   * Endpoint of a GCS-compatible server (e.g. fake-gcs-server in tests).
   * @default - https://storage.googleapis.com
   */
  readonly endpoint?: string;
  /**
   * Key of the service account JSON in `credentialsSecret`.
   * @default 'SERVICE_ACCOUNT_JSON'
   */
  readonly serviceAccountJsonKey?: string;
  /**
   * Object name prefix.
   * @default - the bucket root
   */
  readonly prefix?: string;
}

/** A PersistentVolumeClaim mounted into the operator. */
export interface VolumeStorageProps {
  /** Name of the PersistentVolumeClaim (in the resource's namespace). */
  readonly claimName: string;
  /**
   * Directory inside the volume.
   * @default - the volume root
   */
  readonly subPath?: string;
  /**
   * Have the operator create the claim when it does not exist.
   * @default - the claim must exist
   */
  readonly create?: {
    /**
     * StorageClass of the claim.
     * @default - the cluster's default StorageClass
     */
    readonly storageClassName?: string;
    /**
     * Requested size.
     * @default Size.gibibytes(100)
     */
    readonly size?: Size;
    /**
     * Access modes.
     * @default ['ReadWriteOnce']
     */
    readonly accessModes?: Array<'ReadWriteOnce' | 'ReadWriteMany' | 'ReadWriteOncePod' | 'ReadOnlyMany'>;
  };
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const GCS_BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
const AZURE_CONTAINER = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
const AZURE_ACCOUNT = /^[a-z0-9]{3,24}$/;

/**
 * Where backups are stored. One value can be shared by a backup, its restore and its validation.
 */
export class BackupStorage {
  /** Amazon S3 or an S3-compatible store. */
  public static s3(props: S3StorageProps): BackupStorage {
    check(
      BUCKET.test(props.bucket),
      `storage.s3.bucket: "${props.bucket}" is not a valid bucket name (3-63 lowercase letters, digits, '.' and '-')`,
    );
    check(props.region.length > 0, 'storage.s3.region: set the bucket region, e.g. us-west-2');
    if (props.endpoint !== undefined) {
      checkUrl(props.endpoint, 'storage.s3.endpoint');
      check(
        !props.endpoint.startsWith('http://') || props.allowHttp === true,
        `storage.s3.endpoint: "${props.endpoint}" is plain http; set allowHttp: true to accept an unencrypted endpoint, or use https`,
      );
    }
    checkPrefix(props.prefix, 'storage.s3.prefix');
    const credentials = props.credentialsSecret;
    if (credentials !== undefined) secretName(credentials, 'storage.s3.credentialsSecret');
    return new BackupStorage(() => ({
      storageType: 's3',
      s3: {
        bucket: props.bucket,
        region: props.region,
        endpoint: props.endpoint,
        pathStyle: props.pathStyle,
        allowHttp: props.allowHttp,
        prefix: props.prefix,
        credentialsSecret:
          credentials === undefined
            ? undefined
            : {
                name: secretName(credentials, 'storage.s3.credentialsSecret'),
                accessKeyIdKey: props.accessKeyIdKey,
                secretAccessKeyKey: props.secretAccessKeyKey,
              },
      },
    }));
  }

  /** Azure Blob Storage. */
  public static azureBlob(props: AzureBlobStorageProps): BackupStorage {
    check(
      AZURE_CONTAINER.test(props.container),
      `storage.azure.container: "${props.container}" is not a valid container name (3-63 lowercase letters, digits and single '-')`,
    );
    check(
      AZURE_ACCOUNT.test(props.accountName),
      `storage.azure.accountName: "${props.accountName}" is not a valid storage account name (3-24 lowercase letters and digits)`,
    );
    if (props.endpoint !== undefined) checkUrl(props.endpoint, 'storage.azure.endpoint');
    checkPrefix(props.prefix, 'storage.azure.prefix');
    return new BackupStorage(() => ({
      storageType: 'azure',
      azure: {
        container: props.container,
        accountName: props.accountName,
        prefix: props.prefix,
        endpoint: props.endpoint,
        ...props.auth._toSpec(),
      },
    }));
  }

  /** Google Cloud Storage. */
  public static gcs(props: GcsStorageProps): BackupStorage {
    check(
      GCS_BUCKET.test(props.bucket),
      `storage.gcs.bucket: "${props.bucket}" is not a valid bucket name (3-63 lowercase letters, digits, '.', '-' and '_')`,
    );
    checkPrefix(props.prefix, 'storage.gcs.prefix');
    if (props.endpoint !== undefined) checkUrl(props.endpoint, 'storage.gcs.endpoint');
    const credentials = props.credentialsSecret;
    if (credentials !== undefined) secretName(credentials, 'storage.gcs.credentialsSecret');
    return new BackupStorage(() => ({
      storageType: 'gcs',
      gcs: {
        bucket: props.bucket,
        prefix: props.prefix,
        endpoint: props.endpoint,
        credentialsSecret:
          credentials === undefined
            ? undefined
            : {
                name: secretName(credentials, 'storage.gcs.credentialsSecret'),
                serviceAccountJsonKey: props.serviceAccountJsonKey,
              },
      },
    }));
  }

  /** A PersistentVolumeClaim (`storageType: pvc`). */
  public static volume(props: VolumeStorageProps): BackupStorage {
    check(
      /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(props.claimName) && props.claimName.length <= 253,
      `storage.pvc.claimName: "${props.claimName}" is not a valid PersistentVolumeClaim name`,
    );
    if (props.subPath !== undefined) {
      check(
        !props.subPath.startsWith('/') && !props.subPath.split('/').includes('..'),
        `storage.pvc.subPath: "${props.subPath}" must be a relative path without '..'`,
      );
    }
    return new BackupStorage(() => ({
      storageType: 'pvc',
      pvc: {
        claimName: props.claimName,
        subPath: props.subPath,
        create: props.create
          ? {
              enabled: true,
              storageClassName: props.create.storageClassName,
              size: props.create.size ? `${props.create.size.toMebibytes()}Mi` : undefined,
              accessModes: props.create.accessModes ? [...props.create.accessModes] : undefined,
            }
          : undefined,
      },
    }));
  }

  private constructor(private readonly produce: () => StorageSpec) {}

  /** The `storageType` this value writes. */
  public get storageType(): StorageSpec['storageType'] {
    return this.produce().storageType;
  }

  /** @internal */
  public _toSpec(): StorageSpec {
    return this.produce();
  }
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

function checkUrl(value: string, field: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  check(
    url !== undefined && (url.protocol === 'https:' || url.protocol === 'http:'),
    `${field}: "${value}" is not an http(s) URL; write it like https://minio.example.com:9000`,
  );
}

function checkPrefix(prefix: string | undefined, field: string): void {
  if (prefix === undefined) return;
  check(!prefix.startsWith('/'), `${field}: "${prefix}" must not start with '/'; write it like backups/prod`);
}
