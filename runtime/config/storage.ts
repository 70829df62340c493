import path from 'node:path';
import type { Reader } from './reader.ts';
import { type SecretSource, secretRef } from './secrets.ts';

/** `storage` as the CRD spells it, plus `filesystem.path` for the CLI; secrets stay references. */
export type StorageSpec =
  | {
      readonly type: 'filesystem';
      readonly path: string;
      /** Set for a `pvc`: the claim whose mount `path` lies in; it must be mounted, never created here. */
      readonly claim?: PvcMount;
    }
  | {
      readonly type: 's3';
      readonly bucket: string;
      readonly region: string;
      readonly endpoint?: string;
      readonly pathStyle: boolean;
      readonly allowHttp: boolean;
      readonly prefix?: string;
      readonly accessKeyId?: SecretSource;
      readonly secretAccessKey?: SecretSource;
    }
  | {
      readonly type: 'azure';
      readonly container: string;
      readonly accountName: string;
      readonly prefix?: string;
      readonly endpoint?: string;
      readonly useWorkloadIdentity: boolean;
      readonly accountKey?: SecretSource;
      readonly sasToken?: SecretSource;
      readonly servicePrincipal?: {
        clientId: SecretSource;
        tenantId: SecretSource;
        clientSecret: SecretSource;
      };
    }
  | {
      readonly type: 'gcs';
      readonly bucket: string;
      readonly prefix?: string;
      readonly endpoint?: string;
      readonly serviceAccountJson?: SecretSource;
    };

export interface PvcMount {
  readonly name: string;
  /** $KAFKA_BACKUP_PVC_ROOT/<claimName>. */
  readonly mountPath: string;
  /** pvc.create.enabled: provisioning the claim was asked for. */
  readonly createRequested: boolean;
}

/** Where a `pvc` claim is mounted: $KAFKA_BACKUP_PVC_ROOT/<claimName>[/<subPath>] (default /data). */
export function pvcRoot(): string {
  return process.env.KAFKA_BACKUP_PVC_ROOT ?? '/data';
}

export function readStorage(r: Reader): StorageSpec | undefined {
  const type = r.oneOf('storageType', ['pvc', 'filesystem', 's3', 'azure', 'gcs'] as const, 'pvc');
  let spec: StorageSpec | undefined;
  const sub = (key: string) => {
    const o = r.object(key);
    if (!o) r.problem(key, `is required when storageType is ${type}`);
    return o;
  };
  if (type === 'pvc') {
    const pvc = sub('pvc');
    if (pvc) {
      const claim = pvc.requiredString('claimName');
      const subPath = pvc.string('subPath');
      // As the CRD's rule: the claim's directory, never a path beside or above it.
      if (subPath !== undefined && (subPath.startsWith('/') || subPath.split('/').includes('..'))) {
        pvc.problem('subPath', "must be a relative path without '..', e.g. 'kafka/prod'");
      }
      const create = pvc.object('create');
      const createRequested = create?.boolean('enabled', false) ?? false;
      create?.accept('storageClassName', 'size', 'accessModes');
      create?.finish();
      pvc.finish();
      const mountPath = path.join(pvcRoot(), claim ?? '');
      spec = {
        type: 'filesystem',
        path: path.join(mountPath, subPath ?? ''),
        claim: { name: claim ?? '', mountPath, createRequested },
      };
    }
  } else if (type === 'filesystem') {
    const fs = sub('filesystem');
    if (fs) {
      spec = { type: 'filesystem', path: fs.requiredString('path') };
      fs.finish();
    }
  } else if (type === 's3') {
    const s3 = sub('s3');
    if (s3) {
      const creds = s3.object('credentialsSecret');
      const accessKeyId = creds ? secretRef(creds, 'accessKeyIdKey', 'AWS_ACCESS_KEY_ID') : undefined;
      const secretAccessKey = creds
        ? {
            kind: 'secret' as const,
            name: creds.string('name') ?? '',
            key: creds.string('secretAccessKeyKey') ?? 'AWS_SECRET_ACCESS_KEY',
          }
        : undefined;
      creds?.finish();
      const endpoint = s3.string('endpoint');
      const prefix = s3.string('prefix');
      spec = {
        type: 's3',
        bucket: s3.requiredString('bucket'),
        region: s3.string('region') ?? 'us-east-1',
        ...(endpoint ? { endpoint } : {}),
        pathStyle: s3.boolean('pathStyle', false),
        allowHttp: s3.boolean('allowHttp', false),
        ...(prefix ? { prefix } : {}),
        ...(accessKeyId ? { accessKeyId } : {}),
        ...(secretAccessKey ? { secretAccessKey } : {}),
      };
      s3.finish();
    }
  } else if (type === 'azure') {
    const az = sub('azure');
    if (az) {
      const key = az.object('credentialsSecret');
      const sas = az.object('sasTokenSecret');
      const sp = az.object('servicePrincipalSecret');
      const accountKey = key ? secretRef(key, 'accountKeyKey', 'AZURE_STORAGE_KEY') : undefined;
      const sasToken = sas ? secretRef(sas, 'sasTokenKey', 'AZURE_SAS_TOKEN') : undefined;
      let servicePrincipal:
        | { clientId: SecretSource; tenantId: SecretSource; clientSecret: SecretSource }
        | undefined;
      if (sp) {
        const name = sp.requiredString('name');
        servicePrincipal = {
          clientId: { kind: 'secret', name, key: sp.string('clientIdKey') ?? 'AZURE_CLIENT_ID' },
          tenantId: { kind: 'secret', name, key: sp.string('tenantIdKey') ?? 'AZURE_TENANT_ID' },
          clientSecret: { kind: 'secret', name, key: sp.string('clientSecretKey') ?? 'AZURE_CLIENT_SECRET' },
        };
      }
      for (const o of [key, sas, sp]) o?.finish();
      const prefix = az.string('prefix');
      const endpoint = az.string('endpoint');
      spec = {
        type: 'azure',
        container: az.requiredString('container'),
        accountName: az.requiredString('accountName'),
        ...(prefix ? { prefix } : {}),
        ...(endpoint ? { endpoint } : {}),
        useWorkloadIdentity: az.boolean('useWorkloadIdentity', false),
        ...(accountKey ? { accountKey } : {}),
        ...(sasToken ? { sasToken } : {}),
        ...(servicePrincipal ? { servicePrincipal } : {}),
      };
      az.finish();
    }
  } else if (type === 'gcs') {
    const gcs = sub('gcs');
    if (gcs) {
      const creds = gcs.object('credentialsSecret');
      const serviceAccountJson = creds
        ? secretRef(creds, 'serviceAccountJsonKey', 'SERVICE_ACCOUNT_JSON')
        : undefined;
      creds?.finish();
      const prefix = gcs.string('prefix');
      const endpoint = gcs.string('endpoint');
      spec = {
        type: 'gcs',
        bucket: gcs.requiredString('bucket'),
        ...(prefix ? { prefix } : {}),
        ...(endpoint ? { endpoint } : {}),
        ...(serviceAccountJson ? { serviceAccountJson } : {}),
      };
      gcs.finish();
    }
  }
  r.finish();
  return spec;
}
