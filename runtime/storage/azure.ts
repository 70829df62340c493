import { Readable } from 'node:stream';
import {
  ClientSecretCredential,
  DefaultAzureCredential,
  type TokenCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.ts';
import { StorageError } from './object-store.ts';
import { joinKey, normalizePrefix, stripPrefix } from './prefix.ts';

export type AzureAuth =
  | { readonly kind: 'account-key'; readonly accountKey: string }
  | { readonly kind: 'sas'; readonly sasToken: string }
  | {
      readonly kind: 'service-principal';
      readonly tenantId: string;
      readonly clientId: string;
      readonly clientSecret: string;
    }
  /** AKS workload identity; unset fields come from AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE. */
  | {
      readonly kind: 'workload-identity';
      readonly tenantId?: string;
      readonly clientId?: string;
      readonly tokenFilePath?: string;
    }
  /** DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI ... */
  | { readonly kind: 'default' }
  /** A full connection string (Azurite, or keys copied from the portal). */
  | { readonly kind: 'connection-string'; readonly connectionString: string };

export interface AzureStoreConfig {
  readonly accountName: string;
  readonly container: string;
  readonly prefix?: string;
  /** Blob service URL; default https://{accountName}.blob.core.windows.net (set it for sovereign clouds or Azurite). */
  readonly endpoint?: string;
  readonly auth: AzureAuth;
  /** Block size of streamed uploads. Default 8 MiB. */
  readonly blockSize?: number;
  /** Blocks uploaded in parallel per object. Default 4. */
  readonly concurrency?: number;
}

/** Azure Blob Storage (block blobs). Streamed bodies are uploaded as blocks, at most `concurrency` in memory. */
export class AzureBlobObjectStore implements ObjectStore {
  readonly description: string;
  private readonly container: ContainerClient;
  private readonly prefix: string;
  private readonly blockSize: number;
  private readonly concurrency: number;

  constructor(config: AzureStoreConfig) {
    if (!config.container) throw new StorageError('fatal', 'azure: container is required');
    if (!config.accountName && config.auth.kind !== 'connection-string') {
      throw new StorageError('fatal', 'azure: accountName is required');
    }
    const endpoint = (config.endpoint ?? `https://${config.accountName}.blob.core.windows.net`).replace(
      /\/+$/,
      '',
    );
    this.prefix = normalizePrefix(config.prefix);
    this.blockSize = config.blockSize ?? 8 * 1024 * 1024;
    this.concurrency = config.concurrency ?? 4;
    this.container = serviceClient(config, endpoint).getContainerClient(config.container);
    this.description = `azure://${config.accountName}/${config.container}${this.prefix ? `/${this.prefix.slice(0, -1)}` : ''}`;
  }

  async put(
    key: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<void> {
    const blob = this.container.getBlockBlobClient(joinKey(this.prefix, key));
    const common = {
      ...(options.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {}),
      ...(options.ifNoneMatch ? { conditions: { ifNoneMatch: '*' } } : {}),
    };
    try {
      if (body instanceof Uint8Array) {
        await blob.uploadData(body, { ...common, blockSize: this.blockSize, concurrency: this.concurrency });
      } else {
        await blob.uploadStream(Readable.from(body), this.blockSize, this.concurrency, common);
      }
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    if (range && range.end <= range.start) return new Uint8Array(0);
    const blob = this.container.getBlobClient(joinKey(this.prefix, key));
    try {
      const res = range ? await blob.download(range.start, range.end - range.start) : await blob.download();
      return await collect(res.readableStreamBody);
    } catch (e) {
      if (range && statusOf(e) === 416) return new Uint8Array(0);
      throw this.translate(e, key);
    }
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    const blob = this.container.getBlobClient(joinKey(this.prefix, key));
    let body: NodeJS.ReadableStream | undefined;
    try {
      body = (await blob.download()).readableStreamBody;
    } catch (e) {
      throw this.translate(e, key);
    }
    if (!body) return;
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) yield chunk;
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const p = await this.container.getBlobClient(joinKey(this.prefix, key)).getProperties();
      return { key, size: p.contentLength ?? 0, ...(p.lastModified ? { lastModified: p.lastModified } : {}) };
    } catch (e) {
      const err = this.translate(e, key);
      if (err.kind === 'not-found') return undefined;
      throw err;
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    // Blob listings are in key order; Azure has no start-after for flat listings, so filter here.
    const after = options.startAfter;
    try {
      for await (const page of this.container
        .listBlobsFlat({ prefix: joinKey(this.prefix, prefix) })
        .byPage({ maxPageSize: 5000 })) {
        for (const item of page.segment.blobItems) {
          const key = stripPrefix(this.prefix, item.name);
          if (after !== undefined && key <= after) continue;
          yield {
            key,
            size: item.properties.contentLength ?? 0,
            ...(item.properties.lastModified ? { lastModified: item.properties.lastModified } : {}),
          };
        }
      }
    } catch (e) {
      throw this.translate(e, prefix);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.container.getBlobClient(joinKey(this.prefix, key)).deleteIfExists();
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  private translate(e: unknown, key: string): StorageError {
    if (e instanceof StorageError) return e;
    const status = statusOf(e);
    const code = (e as { code?: string }).code ?? '';
    const where = `${this.description}/${key}`;
    const detail = (e as Error).message ?? String(e);
    if (code === 'ContainerNotFound') {
      return new StorageError('fatal', `container of ${this.description} does not exist: create it first`, {
        key,
        cause: e,
      });
    }
    if (status === 404) return new StorageError('not-found', `no object at ${where}`, { key, cause: e });
    if (
      status === 412 ||
      code === 'BlobAlreadyExists' ||
      code === 'ConditionNotMet' ||
      (status === 409 && code === 'BlobAlreadyExists')
    ) {
      return new StorageError('precondition-failed', `an object already exists at ${where}`, {
        key,
        cause: e,
      });
    }
    if (
      status === 401 ||
      status === 403 ||
      code === 'AuthenticationFailed' ||
      code === 'AuthorizationFailure'
    ) {
      return new StorageError(
        'access-denied',
        `access denied to ${where} (${code || status}): check the credentials and role assignments`,
        {
          key,
          cause: e,
        },
      );
    }
    if (status === 429 || status === 503 || code === 'ServerBusy') {
      return new StorageError('throttled', `Azure throttled a request for ${where}`, { key, cause: e });
    }
    if (
      (status !== undefined && status >= 500) ||
      status === 408 ||
      /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|EAI_AGAIN|REQUEST_SEND_ERROR/.test(
        `${code} ${detail}`,
      )
    ) {
      return new StorageError('transient', `temporary Azure error for ${where}: ${detail}`, {
        key,
        cause: e,
      });
    }
    if (/credential|token|authenticat/i.test(detail) && (e as Error).name?.includes('Authentication')) {
      return new StorageError('access-denied', `cannot authenticate to ${where}: ${detail}`, {
        key,
        cause: e,
      });
    }
    return new StorageError('fatal', `Azure request for ${where} failed: ${detail}`, { key, cause: e });
  }
}

function serviceClient(config: AzureStoreConfig, endpoint: string): BlobServiceClient {
  const auth = config.auth;
  switch (auth.kind) {
    case 'connection-string':
      return BlobServiceClient.fromConnectionString(auth.connectionString);
    case 'account-key':
      return new BlobServiceClient(
        endpoint,
        new StorageSharedKeyCredential(config.accountName, auth.accountKey),
      );
    case 'sas':
      return new BlobServiceClient(`${endpoint}?${auth.sasToken.replace(/^\?/, '')}`);
    default:
      return new BlobServiceClient(endpoint, tokenCredential(auth));
  }
}

function tokenCredential(
  auth: Extract<AzureAuth, { kind: 'service-principal' | 'workload-identity' | 'default' }>,
): TokenCredential {
  switch (auth.kind) {
    case 'service-principal':
      return new ClientSecretCredential(auth.tenantId, auth.clientId, auth.clientSecret);
    case 'workload-identity':
      return new WorkloadIdentityCredential({
        ...(auth.tenantId ? { tenantId: auth.tenantId } : {}),
        ...(auth.clientId ? { clientId: auth.clientId } : {}),
        ...(auth.tokenFilePath ? { tokenFilePath: auth.tokenFilePath } : {}),
      });
    case 'default':
      return new DefaultAzureCredential();
  }
}

async function collect(body: NodeJS.ReadableStream | undefined): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number }).statusCode;
}
