import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type Bucket,
  type File,
  type GetFilesOptions,
  Storage,
  type StorageOptions,
} from '@google-cloud/storage';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.ts';
import { StorageError } from './object-store.ts';
import { joinKey, normalizePrefix, stripPrefix } from './prefix.ts';

export type GcsAuth =
  /** The content of a service-account key file (as stored in a Secret), not a path. */
  | { readonly kind: 'service-account-json'; readonly json: string }
  /** Application default credentials: GOOGLE_APPLICATION_CREDENTIALS, GKE workload identity, metadata server. */
  | { readonly kind: 'adc' }
  /** No credentials, for emulators such as fake-gcs-server. */
  | { readonly kind: 'none' };

export interface GcsStoreConfig {
  readonly bucket: string;
  readonly prefix?: string;
  /** Custom API endpoint (emulators, private service connect). */
  readonly endpoint?: string;
  readonly projectId?: string;
  readonly auth: GcsAuth;
  /** Chunk size of resumable (streamed) uploads. Default 8 MiB. */
  readonly chunkSize?: number;
}

/** Google Cloud Storage. Streamed bodies use a resumable upload; whole buffers a single request. */
export class GcsObjectStore implements ObjectStore {
  readonly description: string;
  private readonly bucket: Bucket;
  private readonly prefix: string;
  private readonly chunkSize: number;

  constructor(config: GcsStoreConfig) {
    if (!config.bucket) throw new StorageError('fatal', 'gcs: bucket is required');
    const options: StorageOptions = {
      ...(config.endpoint ? { apiEndpoint: config.endpoint } : {}),
      ...(config.projectId ? { projectId: config.projectId } : {}),
      retryOptions: { autoRetry: false }, // retries are withRetry's job, with one policy for every backend
    };
    if (config.auth.kind === 'service-account-json') {
      let parsed: { client_email?: string; private_key?: string; project_id?: string };
      try {
        parsed = JSON.parse(config.auth.json);
      } catch {
        throw new StorageError(
          'fatal',
          'gcs: the service-account credentials are not valid JSON (paste the key file content)',
        );
      }
      options.credentials = parsed;
      if (!options.projectId && parsed.project_id) options.projectId = parsed.project_id;
    }
    this.bucket = new Storage(options).bucket(config.bucket);
    this.prefix = normalizePrefix(config.prefix);
    this.chunkSize = config.chunkSize ?? 8 * 1024 * 1024;
    this.description = `gs://${config.bucket}${this.prefix ? `/${this.prefix.slice(0, -1)}` : ''}`;
  }

  async put(
    key: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<void> {
    const file = this.bucket.file(joinKey(this.prefix, key));
    const common = {
      ...(options.contentType ? { contentType: options.contentType } : {}),
      ...(options.ifNoneMatch ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
    };
    try {
      if (body instanceof Uint8Array) {
        await file.save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
          ...common,
          resumable: false,
        });
      } else {
        await pipeline(
          Readable.from(body),
          file.createWriteStream({ ...common, resumable: true, chunkSize: this.chunkSize }),
        );
      }
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    if (range && range.end <= range.start) return new Uint8Array(0);
    try {
      const [data] = await this.bucket
        .file(joinKey(this.prefix, key))
        .download(range ? { start: range.start, end: range.end - 1, validation: false } : {});
      return data;
    } catch (e) {
      if (range && statusOf(e) === 416) return new Uint8Array(0);
      throw this.translate(e, key);
    }
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    try {
      for await (const chunk of this.bucket.file(joinKey(this.prefix, key)).createReadStream())
        yield chunk as Buffer;
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const [m] = await this.bucket.file(joinKey(this.prefix, key)).getMetadata();
      return { key, size: Number(m.size ?? 0), ...(m.updated ? { lastModified: new Date(m.updated) } : {}) };
    } catch (e) {
      const err = this.translate(e, key);
      if (err.kind === 'not-found') return undefined;
      throw err;
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const after = options.startAfter;
    let query: GetFilesOptions | null = {
      prefix: joinKey(this.prefix, prefix),
      autoPaginate: false,
      maxResults: 1000,
      ...(after !== undefined ? { startOffset: joinKey(this.prefix, after) } : {}),
    };
    while (query) {
      let files: File[];
      let next: GetFilesOptions | null;
      try {
        [files, next] = (await this.bucket.getFiles(query)) as unknown as [File[], GetFilesOptions | null];
      } catch (e) {
        throw this.translate(e, prefix);
      }
      for (const f of files) {
        const key = stripPrefix(this.prefix, f.name);
        if (after !== undefined && key <= after) continue; // startOffset is inclusive
        yield {
          key,
          size: Number(f.metadata.size ?? 0),
          ...(f.metadata.updated ? { lastModified: new Date(f.metadata.updated) } : {}),
        };
      }
      query = next?.pageToken ? next : null;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.bucket.file(joinKey(this.prefix, key)).delete({ ignoreNotFound: true });
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  private translate(e: unknown, key: string): StorageError {
    if (e instanceof StorageError) return e;
    const status = statusOf(e);
    const where = `${this.description}/${key}`;
    const detail = (e as Error).message ?? String(e);
    if (status === 404) {
      if (/bucket/i.test(detail) && !/object/i.test(detail)) {
        return new StorageError('fatal', `bucket of ${this.description} does not exist: create it first`, {
          key,
          cause: e,
        });
      }
      return new StorageError('not-found', `no object at ${where}`, { key, cause: e });
    }
    if (status === 412)
      return new StorageError('precondition-failed', `an object already exists at ${where}`, {
        key,
        cause: e,
      });
    if (status === 401 || status === 403) {
      return new StorageError(
        'access-denied',
        `access denied to ${where}: check the service account and its IAM roles`,
        {
          key,
          cause: e,
        },
      );
    }
    if (status === 429)
      return new StorageError('throttled', `GCS throttled a request for ${where}`, { key, cause: e });
    if (
      (status !== undefined && status >= 500) ||
      status === 408 ||
      /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|EAI_AGAIN/.test(detail)
    ) {
      return new StorageError('transient', `temporary GCS error for ${where}: ${detail}`, { key, cause: e });
    }
    return new StorageError('fatal', `GCS request for ${where} failed: ${detail}`, { key, cause: e });
  }
}

function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
