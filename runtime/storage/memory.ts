import type { ByteRange, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.ts';
import { StorageError } from './object-store.ts';

/** An in-process store, for tests of code above the port and for dry runs. */
export class MemoryObjectStore implements ObjectStore {
  readonly description = 'memory://';
  readonly objects = new Map<string, { bytes: Uint8Array; lastModified: Date }>();

  async put(
    key: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<void> {
    let bytes: Uint8Array;
    if (body instanceof Uint8Array) {
      bytes = Uint8Array.from(body);
    } else {
      const chunks: Uint8Array[] = [];
      for await (const c of body) chunks.push(c);
      bytes = Buffer.concat(chunks);
    }
    if (options.ifNoneMatch && this.objects.has(key)) {
      throw new StorageError('precondition-failed', `an object already exists at ${key}`, { key });
    }
    this.objects.set(key, { bytes, lastModified: new Date() });
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const o = this.objects.get(key);
    if (!o) throw new StorageError('not-found', `no object at ${key}`, { key });
    return range ? o.bytes.slice(range.start, range.end) : o.bytes.slice();
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    yield await this.get(key);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o ? { key, size: o.bytes.length, lastModified: o.lastModified } : undefined;
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (options.startAfter === undefined || k > options.startAfter))
      .sort();
    for (const key of keys) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
