/**
 * Test helpers for the object stores and the fault injector of the test environment: clients
 * configured the way each emulator needs, and a unique bucket/container per test that is removed
 * again with everything in it.
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { type Bucket, Storage } from '@google-cloud/storage';
import { uniqueName } from './fixture.ts';
import type { AzureInfo, GcsInfo, S3Info } from './state.ts';

// --- S3 (MinIO) ---

/**
 * An S3 client for MinIO: path-style addressing, since `<bucket>.127.0.0.1` does not resolve.
 * The SDK's default checksums (CRC32 on every upload since v3.729) are kept: MinIO accepts and
 * verifies them, so no `requestChecksumCalculation: 'WHEN_REQUIRED'` is needed here.
 */
export function s3Client(info: S3Info, overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: info.endpoint,
    region: info.region,
    forcePathStyle: true,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    ...overrides,
  });
}

/** Creates a bucket with a name unique to this test run and returns its name. */
export async function createS3Bucket(client: S3Client, prefix = 'test'): Promise<string> {
  const bucket = uniqueName(prefix);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Reads a whole object. */
export async function getS3Object(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) throw new Error(`GetObject s3://${bucket}/${key} returned no body`);
  return response.Body.transformToByteArray();
}

/** Every object key of a bucket. */
export async function listS3Keys(client: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
  }
  return keys;
}

/** Deletes a bucket with all its objects and unfinished multipart uploads. */
export async function deleteS3Bucket(client: S3Client, bucket: string): Promise<void> {
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length > 0) {
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    }
  }
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  await Promise.all(
    (uploads.Uploads ?? []).map((u) =>
      client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId })),
    ),
  );
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

// --- Azure Blob (Azurite) ---

export function azureServiceClient(info: AzureInfo): BlobServiceClient {
  return new BlobServiceClient(
    info.blobEndpoint,
    new StorageSharedKeyCredential(info.accountName, info.accountKey),
  );
}

/** Creates a container with a name unique to this test run. */
export async function createAzureContainer(
  service: BlobServiceClient,
  prefix = 'test',
): Promise<ContainerClient> {
  const container = service.getContainerClient(uniqueName(prefix));
  await container.create();
  return container;
}

/** Deletes a container; Azure deletes the blobs in it with it. */
export async function deleteAzureContainer(container: ContainerClient): Promise<void> {
  await container.deleteIfExists();
}

// --- GCS (fake-gcs-server) ---

/**
 * A GCS client for fake-gcs-server. With a custom `apiEndpoint` the SDK sends no credentials
 * (unless `useAuthWithCustomEndpoint`), which is what the emulator expects.
 */
export function gcsClient(info: GcsInfo): Storage {
  return new Storage({ apiEndpoint: info.endpoint, projectId: info.projectId });
}

/** Creates a bucket with a name unique to this test run. */
export async function createGcsBucket(storage: Storage, prefix = 'test'): Promise<Bucket> {
  const [bucket] = await storage.createBucket(uniqueName(prefix));
  return bucket;
}

/** Deletes a bucket with all its objects. */
export async function deleteGcsBucket(bucket: Bucket): Promise<void> {
  await bucket.deleteFiles({ force: true });
  await bucket.delete({ ignoreNotFound: true });
}

// --- toxiproxy ---

export interface ToxiproxyProxy {
  readonly name: string;
  /** host:port toxiproxy listens on for this proxy. */
  readonly listen: string;
  /** host:port it forwards to. */
  readonly upstream: string;
}

/** Direction of the traffic a toxic acts on: `downstream` is upstream server to client. */
export type ToxicStream = 'upstream' | 'downstream';

/** A minimal client of toxiproxy's HTTP API (https://github.com/Shopify/toxiproxy#http-api). */
export class ToxiproxyClient {
  readonly #apiUrl: string;

  constructor(apiUrl: string) {
    this.#apiUrl = apiUrl;
  }

  /** Creates a proxy to `upstream` (host:port) listening on `listen` (default: a free loopback port). */
  async createProxy(name: string, upstream: string, listen = '127.0.0.1:0'): Promise<ToxiproxyProxy> {
    const proxy = await this.request<ToxiproxyProxy>('POST', '/proxies', {
      name,
      listen,
      upstream,
      enabled: true,
    });
    return { name: proxy.name, listen: proxy.listen, upstream: proxy.upstream };
  }

  /** Delays the data of every connection of the proxy by `latencyMs` (± `jitterMs`). */
  async addLatency(
    proxy: string,
    toxic: string,
    latencyMs: number,
    options: { jitterMs?: number; stream?: ToxicStream } = {},
  ): Promise<void> {
    await this.addToxic(proxy, toxic, 'latency', options.stream ?? 'downstream', {
      latency: latencyMs,
      jitter: options.jitterMs ?? 0,
    });
  }

  /** Resets (TCP RST) connections of the proxy once `timeoutMs` has passed (0: as data arrives). */
  async addResetPeer(
    proxy: string,
    toxic: string,
    options: { timeoutMs?: number; stream?: ToxicStream } = {},
  ): Promise<void> {
    await this.addToxic(proxy, toxic, 'reset_peer', options.stream ?? 'upstream', {
      timeout: options.timeoutMs ?? 0,
    });
  }

  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.request('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
  }

  async deleteProxy(proxy: string): Promise<void> {
    await this.request('DELETE', `/proxies/${encodeURIComponent(proxy)}`);
  }

  private async addToxic(
    proxy: string,
    name: string,
    type: string,
    stream: ToxicStream,
    attributes: Record<string, number>,
  ): Promise<void> {
    await this.request('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, {
      name,
      type,
      stream,
      toxicity: 1,
      attributes,
    });
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.#apiUrl}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`toxiproxy ${method} ${path} failed with HTTP ${response.status}: ${text.trim()}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
