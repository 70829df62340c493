import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.ts';
import { StorageError } from './object-store.ts';
import { joinKey, normalizePrefix, type StorageLogger, stripPrefix } from './prefix.ts';

export interface S3StoreConfig {
  readonly bucket: string;
  readonly region: string;
  /** For MinIO, Ceph, R2 ...; AWS when omitted. */
  readonly endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  readonly pathStyle?: boolean;
  /** Allow an http:// endpoint (credentials and data travel unencrypted; a warning is logged). */
  readonly allowHttp?: boolean;
  readonly prefix?: string;
  /** Static keys; when omitted the SDK's default chain is used (env, web identity/IRSA, ECS, IMDS, profile). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Multipart part size for streamed uploads. Default 8 MiB (S3's minimum is 5 MiB). */
  readonly partSize?: number;
  /** Parts uploaded in parallel per object. Default 4. */
  readonly queueSize?: number;
  readonly logger?: StorageLogger;
  /** Extra client settings (tests: custom request handlers, retries). */
  readonly clientOverrides?: Partial<S3ClientConfig>;
}

/**
 * Amazon S3 and S3-compatible servers. Objects up to one part are a single PutObject; streamed or
 * larger bodies use a multipart upload (lib-storage) that holds at most queueSize parts in memory.
 * Checksums are only sent when an operation requires them: several S3-compatible servers reject
 * the newer default CRC32 trailers.
 */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(config: S3StoreConfig) {
    if (!config.bucket) throw new StorageError('fatal', 's3: bucket is required');
    if (!config.region)
      throw new StorageError('fatal', 's3: region is required (any value, e.g. us-east-1, for MinIO)');
    if (config.endpoint?.startsWith('http://')) {
      if (!config.allowHttp) {
        throw new StorageError(
          'fatal',
          `s3: endpoint ${config.endpoint} is plain http; use https, or set allowHttp: true to accept unencrypted traffic`,
        );
      }
      (config.logger ?? console).warn(
        `s3: using plain http endpoint ${config.endpoint} (allowHttp): credentials and data are not encrypted in transit`,
      );
    }
    this.bucket = config.bucket;
    this.prefix = normalizePrefix(config.prefix);
    this.partSize = Math.max(5 * 1024 * 1024, config.partSize ?? 8 * 1024 * 1024);
    this.queueSize = config.queueSize ?? 4;
    this.description = `s3://${config.bucket}${this.prefix ? `/${this.prefix.slice(0, -1)}` : ''}`;
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.pathStyle ?? false,
      ...(config.credentials ? { credentials: config.credentials } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...config.clientOverrides,
    });
  }

  async put(
    key: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<void> {
    const params = {
      Bucket: this.bucket,
      Key: joinKey(this.prefix, key),
      ...(options.contentType ? { ContentType: options.contentType } : {}),
      ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
    };
    try {
      if (body instanceof Uint8Array && body.length <= this.partSize) {
        await this.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.length }));
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { ...params, Body: body instanceof Uint8Array ? body : Readable.from(body) },
        partSize: this.partSize,
        queueSize: this.queueSize,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    if (range && range.end <= range.start) return new Uint8Array(0);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: joinKey(this.prefix, key),
          ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
        }),
      );
      if (!res.Body) return new Uint8Array(0);
      return await res.Body.transformToByteArray();
    } catch (e) {
      if (range && statusOf(e) === 416) return new Uint8Array(0);
      throw this.translate(e, key);
    }
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    let body: AsyncIterable<Uint8Array>;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, key) }),
      );
      body = (res.Body as Readable | undefined) ?? Readable.from([]);
    } catch (e) {
      throw this.translate(e, key);
    }
    try {
      for await (const chunk of body) yield chunk;
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const res = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, key) }),
      );
      return {
        key,
        size: res.ContentLength ?? 0,
        ...(res.LastModified ? { lastModified: res.LastModified } : {}),
      };
    } catch (e) {
      const err = this.translate(e, key);
      if (err.kind === 'not-found') return undefined;
      throw err;
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: joinKey(this.prefix, prefix),
            ...(token ? { ContinuationToken: token } : {}),
            ...(!token && options.startAfter !== undefined
              ? { StartAfter: joinKey(this.prefix, options.startAfter) }
              : {}),
          }),
        );
      } catch (e) {
        throw this.translate(e, prefix);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield {
          key: stripPrefix(this.prefix, o.Key),
          size: o.Size ?? 0,
          ...(o.LastModified ? { lastModified: o.LastModified } : {}),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, key) }),
      );
    } catch (e) {
      const err = this.translate(e, key);
      if (err.kind !== 'not-found') throw err;
    }
  }

  /** Releases the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  private translate(e: unknown, key: string): StorageError {
    if (e instanceof StorageError) return e;
    const name = (e as { name?: string }).name ?? '';
    const status = statusOf(e);
    const where = `${this.description}/${key}`;
    const detail = (e as Error).message ?? String(e);
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
      if (name === 'NoSuchBucket') {
        return new StorageError('fatal', `bucket '${this.bucket}' does not exist: create it first`, {
          key,
          cause: e,
        });
      }
      return new StorageError('not-found', `no object at ${where}`, { key, cause: e });
    }
    if (status === 412 || name === 'PreconditionFailed') {
      return new StorageError('precondition-failed', `an object already exists at ${where}`, {
        key,
        cause: e,
      });
    }
    if (
      status === 403 ||
      status === 401 ||
      name === 'AccessDenied' ||
      name === 'InvalidAccessKeyId' ||
      name === 'SignatureDoesNotMatch'
    ) {
      return new StorageError(
        'access-denied',
        `access denied to ${where} (${name}): check the credentials and the bucket policy`,
        {
          key,
          cause: e,
        },
      );
    }
    if (status === 429 || status === 503 || name === 'SlowDown' || name === 'ThrottlingException') {
      return new StorageError('throttled', `S3 throttled a request for ${where}: ${detail}`, {
        key,
        cause: e,
      });
    }
    if (
      (status !== undefined && status >= 500) ||
      status === 409 ||
      name === 'TimeoutError' ||
      name === 'RequestTimeout' ||
      /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|EAI_AGAIN/.test(detail)
    ) {
      if (/ECONNREFUSED|EAI_AGAIN|ENOTFOUND/.test(detail)) {
        return new StorageError(
          'transient',
          `cannot reach S3 for ${where}: ${detail}; check storage.s3.endpoint and that the endpoint is up`,
          { key, cause: e },
        );
      }
      return new StorageError('transient', `temporary S3 error for ${where}: ${detail}`, { key, cause: e });
    }
    return new StorageError('fatal', `S3 request for ${where} failed: ${detail}`, { key, cause: e });
  }
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
