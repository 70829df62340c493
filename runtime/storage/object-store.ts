/**
 * The storage port: the only way the engine reaches S3, Azure Blob, GCS or a mounted volume.
 * Keys are '/'-separated and relative to the configured bucket/container and prefix.
 * Adapters translate their SDK's errors into StorageError so the engine can decide on retries.
 */
export interface ObjectStore {
  /** A short description for logs and errors, without credentials (e.g. `s3://bucket/prefix`). */
  readonly description: string;
  /** Writes an object whole; large or streamed bodies are uploaded in parts. Replaces an existing one. */
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<void>;
  /** Reads an object whole, or the byte range [start, end) of it. Throws StorageError('not-found'). */
  get(key: string, range?: ByteRange): Promise<Uint8Array>;
  /** Streams an object. Throws StorageError('not-found'). */
  stream(key: string): AsyncIterable<Uint8Array>;
  /** Size and metadata of an object, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in lexicographic key order. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Deletes an object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Releases the store's connections (an S3 client keeps one open per request it pooled); the store
   * is not used afterwards. A long-lived process that opens a store per reconcile or run would
   * otherwise keep a socket and its file descriptor per store until the server drops it.
   */
  close?(): void;
}

export interface PutOptions {
  readonly contentType?: string;
  /** Fail with StorageError('precondition-failed') if the object already exists. */
  readonly ifNoneMatch?: boolean;
}

export interface ListOptions {
  /** Only keys strictly after this one (so a reader can fetch just what is new since its last look). */
  readonly startAfter?: string;
}

export interface ByteRange {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified?: Date;
}

export type StorageErrorKind =
  | 'not-found'
  | 'precondition-failed'
  | 'access-denied'
  | 'throttled'
  | 'transient'
  | 'fatal';

export class StorageError extends Error {
  readonly kind: StorageErrorKind;
  readonly key: string | undefined;
  constructor(kind: StorageErrorKind, message: string, options: { key?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StorageError';
    this.kind = kind;
    this.key = options.key;
  }

  /** Worth retrying with backoff. */
  get retryable(): boolean {
    return this.kind === 'throttled' || this.kind === 'transient';
  }
}
