import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.ts';
import { StorageError } from './object-store.ts';

const TEMP_MARKER = '.tmp-kb-';

/**
 * A mounted volume (a PVC, NFS, a local directory). Writes go to a temporary file in the target
 * directory, are fsynced, then renamed into place, so a reader never sees a partial object.
 * if-none-match uses link(2), which fails atomically when the target exists.
 */
export class FilesystemObjectStore implements ObjectStore {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = `file://${this.root}`;
  }

  async put(
    key: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<void> {
    const file = this.pathOf(key);
    const tmp = `${file}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const handle = await fs.open(tmp, 'w');
      try {
        if (body instanceof Uint8Array) {
          await handle.writeFile(body);
        } else {
          for await (const chunk of body) await handle.write(chunk);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (options.ifNoneMatch) {
        try {
          await createExclusive(tmp, file);
        } finally {
          await fs.rm(tmp, { force: true });
        }
      } else {
        await fs.rename(tmp, file);
      }
      await syncDirectory(path.dirname(file));
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw this.translate(e, key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const file = this.pathOf(key);
    try {
      if (!range) return await fs.readFile(file);
      const handle = await fs.open(file, 'r');
      try {
        const length = Math.max(0, range.end - range.start);
        const buf = Buffer.allocUnsafe(length);
        let read = 0;
        while (read < length) {
          const { bytesRead } = await handle.read(buf, read, length - read, range.start + read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        return buf.subarray(0, read);
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    const file = this.pathOf(key);
    try {
      await fs.access(file);
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const st = await fs.stat(this.pathOf(key));
      return st.isFile() ? { key, size: st.size, lastModified: st.mtime } : undefined;
    } catch (e) {
      const err = this.translate(e, key);
      if (err.kind === 'not-found') return undefined;
      throw err;
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    // Walk only below the prefix's directory part; sort the full keys, since a depth-first walk does
    // not give lexicographic key order ('a-b' < 'a/b').
    const slash = prefix.lastIndexOf('/');
    const baseKey = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    const keys: string[] = [];
    await this.walk(baseKey, keys);
    const selected = keys
      .filter((k) => k.startsWith(prefix) && (options.startAfter === undefined || k > options.startAfter))
      .sort();
    for (const key of selected) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await fs.rm(this.pathOf(key), { force: true });
    } catch (e) {
      throw this.translate(e, key);
    }
  }

  private async walk(dirKey: string, out: string[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(this.root, dirKey), { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') this.assertRootIsDirectory(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.translate(e, dirKey);
    }
    for (const entry of entries) {
      const key = `${dirKey}${entry.name}`;
      if (entry.isDirectory()) await this.walk(`${key}/`, out);
      else if (entry.isFile() && !entry.name.includes(TEMP_MARKER)) out.push(key);
    }
  }

  /** The storage path names a file (say /etc/passwd): say so, rather than "no object at /etc/passwd/...". */
  private assertRootIsDirectory(cause: unknown): void {
    let isFile = false;
    try {
      isFile = !statSync(this.root).isDirectory();
    } catch {
      // absent or unreadable: the caller's own error says more
    }
    if (isFile) {
      throw new StorageError(
        'fatal',
        `the storage path ${this.root} exists but is not a directory: set storage.filesystem.path to a directory`,
        { cause },
      );
    }
  }

  private pathOf(key: string): string {
    if (
      key === '' ||
      key.startsWith('/') ||
      key.includes('\\') ||
      key.split('/').some((p) => p === '..' || p === '.' || p === '')
    ) {
      throw new StorageError('fatal', `invalid object key '${key}'`, { key });
    }
    return path.join(this.root, key);
  }

  private translate(e: unknown, key: string): StorageError {
    if (e instanceof StorageError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    const where = `${this.description}/${key}`;
    switch (code) {
      case 'ENOTDIR':
        this.assertRootIsDirectory(e);
        return new StorageError('not-found', `no object at ${where}`, { key, cause: e });
      case 'ENOENT':
        return new StorageError('not-found', `no object at ${where}`, { key, cause: e });
      case 'EEXIST':
        return new StorageError('precondition-failed', `an object already exists at ${where}`, {
          key,
          cause: e,
        });
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        return new StorageError(
          'access-denied',
          `no permission to access ${where}: check the volume's mount and owner`,
          {
            key,
            cause: e,
          },
        );
      case 'EAGAIN':
      case 'EBUSY':
      case 'EMFILE':
      case 'ENFILE':
      case 'EIO':
      case 'ETIMEDOUT':
        return new StorageError('transient', `temporary error on ${where}: ${code}`, { key, cause: e });
      default:
        return new StorageError('fatal', `cannot access ${where}: ${(e as Error).message}`, {
          key,
          cause: e,
        });
    }
  }
}

/** Makes the new directory entry durable, so a commit that returned survives a power loss. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems (and platforms) cannot fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/**
 * Publishes `tmp` at `file` only if nothing is there. link(2) does it atomically; filesystems without
 * hard links (some SMB/CSI volumes) fall back to an O_EXCL copy, whose existence check is still
 * atomic (a reader may briefly see a partial object, which checksums reject).
 */
async function createExclusive(tmp: string, file: string): Promise<void> {
  try {
    await fs.link(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (
      code !== 'EPERM' &&
      code !== 'ENOTSUP' &&
      code !== 'EOPNOTSUPP' &&
      code !== 'ENOSYS' &&
      code !== 'EXDEV'
    )
      throw e;
    await fs.copyFile(tmp, file, fs.constants.COPYFILE_EXCL);
  }
}
