import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { jsonBytes, parseJson } from '../format/repository.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type ObjectStore, StorageError } from '../storage/object-store.ts';
import { RunLeaseConflict } from './errors.ts';

/**
 * A storage-side lease that fences runs of the same backup or restore: only the holder writes.
 *
 * The store offers one atomic primitive everywhere (S3, Azure, GCS, a volume): create-if-absent. So a
 * lease is a series of epochs, `{prefix}{epoch:010}.json`, each created with if-none-match: of two
 * runs that try to take the same epoch exactly one succeeds. The holder rewrites its own epoch object
 * every `ttl/3` (`renewedAt`); a newer epoch is taken only when the current one is released, has not
 * been renewed for `ttl`, or names a process on this host that no longer exists (a killed rerun on the
 * same machine takes over at once). The holder stops writing (assertHeld throws) once it has not
 * renewed for `ttl - ttl/3` by its own clock, before any contender may take over, so clocks may
 * differ by up to `ttl/3` without two writers. A holder that sees a newer epoch has lost the lease.
 */
export interface LeaseOptions {
  /** Lease lifetime without renewal. Default 30 s. */
  readonly ttlMs?: number;
  /** What the lease guards, for messages ("restore restore-1a2b"). */
  readonly subject: string;
  readonly log?: Logger;
  /** Wall clock (ms since the epoch). */
  readonly now?: () => number;
  /** For tests: the identity this process claims and how it checks another's liveness. */
  readonly host?: string;
  readonly pid?: number;
  readonly isProcessAlive?: (pid: number) => boolean;
}

interface LeaseDocument {
  readonly version: 1;
  readonly epoch: number;
  readonly holder: { readonly host: string; readonly pid: number; readonly token: string };
  readonly acquiredAt: string;
  readonly renewedAt: string;
  readonly ttlMs: number;
  readonly released: boolean;
}

const DEFAULT_TTL_MS = 30_000;

export class RunLease {
  readonly #store: ObjectStore;
  readonly #key: string;
  readonly #prefix: string;
  readonly #doc: LeaseDocument;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #subject: string;
  readonly #controller = new AbortController();
  #lastRenewal: number;
  #lost: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> = Promise.resolve();

  private constructor(
    store: ObjectStore,
    prefix: string,
    doc: LeaseDocument,
    options: LeaseOptions,
    at: number,
  ) {
    this.#store = store;
    this.#prefix = prefix;
    this.#key = epochKey(prefix, doc.epoch);
    this.#doc = doc;
    this.#ttlMs = doc.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? silentLogger;
    this.#subject = options.subject;
    this.#lastRenewal = at;
  }

  /**
   * Takes the lease under `prefix`, waiting (up to one ttl) for a previous holder that stopped
   * renewing; refuses with a conflict while another run is alive.
   */
  static async acquire(store: ObjectStore, prefix: string, options: LeaseOptions): Promise<RunLease> {
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    const now = options.now ?? Date.now;
    const log = options.log ?? silentLogger;
    const host = options.host ?? hostname();
    const pid = options.pid ?? process.pid;
    const alive = options.isProcessAlive ?? isProcessAlive;
    // The renewal time of a holder seen earlier: if it moves, the holder is alive.
    let seen: { epoch: number; renewedAt: string } | undefined;
    for (;;) {
      const current = await latestEpoch(store, prefix);
      if (current) {
        const verdict = judge(current, { now: now(), host, alive });
        if (verdict.kind === 'held') {
          // A holder that renews is alive: refuse. One that stopped may be a killed run on another
          // machine (an evicted Pod, a retried Job): wait for its lease to expire rather than fail.
          if (seen && (seen.epoch !== current.epoch || seen.renewedAt !== current.renewedAt)) {
            throw conflict(options.subject, current, now());
          }
          seen ??= { epoch: current.epoch, renewedAt: current.renewedAt };
          const expiresIn = Date.parse(current.renewedAt) + current.ttlMs - now();
          log.warn('another run holds the lease; waiting to see whether it is alive or its lease expires', {
            subject: options.subject,
            holder: `${current.holder.host}/${current.holder.pid}`,
            expiresInMs: Math.max(0, expiresIn),
          });
          await delay(Math.max(50, Math.min(expiresIn + 50, current.ttlMs / 3 + 500)));
          continue;
        }
        if (verdict.kind === 'gone') {
          log.info('taking over the lease of a run that is gone', {
            subject: options.subject,
            previous: `${current.holder.host}/${current.holder.pid}`,
            reason: verdict.reason,
          });
        }
      }
      const at = now();
      const doc: LeaseDocument = {
        version: 1,
        epoch: (current?.epoch ?? 0) + 1,
        holder: { host, pid, token: randomBytes(8).toString('hex') },
        acquiredAt: new Date(at).toISOString(),
        renewedAt: new Date(at).toISOString(),
        ttlMs,
        released: false,
      };
      try {
        await store.put(epochKey(prefix, doc.epoch), jsonBytes(doc), {
          contentType: 'application/json',
          ifNoneMatch: true,
        });
      } catch (error) {
        if (error instanceof StorageError && error.kind === 'precondition-failed') continue; // lost the race: look again
        throw error;
      }
      const lease = new RunLease(store, prefix, doc, options, at);
      lease.#start();
      // Older epochs are history only; the newest one carries the state.
      if (current) await store.delete(epochKey(prefix, current.epoch)).catch(() => {});
      return lease;
    }
  }

  /** Aborted when the lease is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Throws a conflict unless this run may still write (held, and renewed recently enough). */
  assertHeld(): void {
    if (!this.#lost && this.#now() - this.#lastRenewal > this.#ttlMs - this.#ttlMs / 3) {
      this.#lose(
        `the lease could not be renewed for ${Math.round((this.#now() - this.#lastRenewal) / 1000)} s`,
      );
    }
    if (this.#lost) {
      throw new RunLeaseConflict(
        `${this.#subject}: this run lost its lease (${this.#lost}) and stopped writing so that two runs never ` +
          'write at once; what it wrote is consistent. Rerun to continue from its last checkpoint.',
      );
    }
  }

  /** Ends the lease so the next run need not wait; idempotent, never throws. */
  async release(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#renewing.catch(() => {});
    if (this.#lost) return;
    this.#lost = 'released';
    try {
      if (await this.#newerEpochExists()) return;
      await this.#store.put(
        this.#key,
        jsonBytes({ ...this.#doc, renewedAt: iso(this.#now()), released: true }),
        {
          contentType: 'application/json',
        },
      );
    } catch (error) {
      this.#log.warn('could not release the lease; the next run waits for it to expire', {
        subject: this.#subject,
        error,
      });
    }
  }

  #start(): void {
    this.#timer = setInterval(() => {
      this.#renewing = this.#renew();
    }, this.#ttlMs / 3);
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    if (this.#lost) return;
    try {
      if (await this.#newerEpochExists()) {
        this.#lose('another run took it over');
        return;
      }
      const at = this.#now();
      await this.#store.put(this.#key, jsonBytes({ ...this.#doc, renewedAt: iso(at) }), {
        contentType: 'application/json',
      });
      this.#lastRenewal = at;
    } catch (error) {
      this.#log.warn('could not renew the lease; will retry', { subject: this.#subject, error });
    }
  }

  async #newerEpochExists(): Promise<boolean> {
    const latest = await latestEpochKey(this.#store, this.#prefix);
    return latest !== undefined && latest > this.#key;
  }

  #lose(reason: string): void {
    if (this.#lost) return;
    this.#lost = reason;
    if (this.#timer) clearInterval(this.#timer);
    this.#log.error('lease lost; stopping writes', { subject: this.#subject, reason });
    this.#controller.abort(new RunLeaseConflict(`${this.#subject}: lease lost (${reason})`));
  }
}

/** A lease some run holds now. */
export interface LiveLease {
  /** The lease's prefix (one run's: e.g. `{backupId}/leases/restore/{restoreId}/`). */
  readonly prefix: string;
  readonly holder: string;
  readonly since: string;
}

/**
 * The leases under `parent` (one per sub-prefix, e.g. every restore of a backup) that a live run
 * holds: not released, renewed within their ttl, and not named by a dead process of this host.
 */
export async function liveLeases(
  store: ObjectStore,
  parent: string,
  options: Pick<LeaseOptions, 'now' | 'host' | 'isProcessAlive'> = {},
): Promise<LiveLease[]> {
  const prefixes = new Set<string>();
  for await (const info of store.list(parent)) {
    if (/\/\d{10}\.json$/.test(info.key)) prefixes.add(info.key.slice(0, info.key.lastIndexOf('/') + 1));
  }
  const at = {
    now: (options.now ?? Date.now)(),
    host: options.host ?? hostname(),
    alive: options.isProcessAlive ?? isProcessAlive,
  };
  const live: LiveLease[] = [];
  for (const prefix of [...prefixes].sort()) {
    const doc = await latestEpoch(store, prefix);
    if (doc && judge(doc, at).kind === 'held') {
      live.push({ prefix, holder: `process ${doc.holder.pid} on ${doc.holder.host}`, since: doc.acquiredAt });
    }
  }
  return live;
}

type Verdict = { kind: 'free' } | { kind: 'gone'; reason: string } | { kind: 'held' };

function judge(
  doc: LeaseDocument,
  at: { now: number; host: string; alive: (pid: number) => boolean },
): Verdict {
  if (doc.released) return { kind: 'free' };
  if (at.now - Date.parse(doc.renewedAt) > doc.ttlMs) return { kind: 'gone', reason: 'expired' };
  if (doc.holder.host === at.host && !at.alive(doc.holder.pid)) {
    return { kind: 'gone', reason: `process ${doc.holder.pid} no longer exists on this host` };
  }
  return { kind: 'held' };
}

function conflict(subject: string, doc: LeaseDocument, now: number): RunLeaseConflict {
  const expires = Date.parse(doc.renewedAt) + doc.ttlMs;
  return new RunLeaseConflict(
    `${subject} is already running (process ${doc.holder.pid} on ${doc.holder.host}, since ${doc.acquiredAt}, ` +
      `lease renewed ${Math.max(0, Math.round((now - Date.parse(doc.renewedAt)) / 1000))} s ago): two runs must ` +
      `not write at once. Wait for it to finish; if it was killed, its lease expires at ${iso(expires)} and ` +
      'a rerun then continues where it stopped.',
  );
}

function epochKey(prefix: string, epoch: number): string {
  return `${prefix}${String(epoch).padStart(10, '0')}.json`;
}

async function latestEpochKey(store: ObjectStore, prefix: string): Promise<string | undefined> {
  let latest: string | undefined;
  for await (const info of store.list(prefix)) {
    if (/\/\d{10}\.json$/.test(info.key) && (latest === undefined || info.key > latest)) latest = info.key;
  }
  return latest;
}

async function latestEpoch(store: ObjectStore, prefix: string): Promise<LeaseDocument | undefined> {
  for (let attempt = 0; ; attempt++) {
    const key = await latestEpochKey(store, prefix);
    if (!key) return undefined;
    try {
      return parseJson(key, await store.get(key)) as LeaseDocument;
    } catch (error) {
      // Deleted between list and get: a newer epoch was just taken; look again.
      if (error instanceof StorageError && error.kind === 'not-found' && attempt < 5) continue;
      throw error;
    }
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
