/**
 * Leader election on a coordination.k8s.io/v1 Lease, the algorithm of client-go's leaderelection:
 * a candidate takes the Lease when it is free or its holder has not renewed it for
 * leaseDuration (measured on the candidate's own clock from when it last saw the record change,
 * so clock skew between replicas does not matter); the leader renews it every retryPeriod and
 * gives up leading when it could not renew for renewDeadline, which is shorter than
 * leaseDuration, so it stops before anyone else may start. Every write carries the
 * resourceVersion it read, so two candidates racing for the Lease cannot both win.
 */
import { type Logger, silentLogger } from '../log.ts';
import { sleep, withJitter } from './backoff.ts';
import { isConflict } from './errors.ts';
import type { LeaseClient, LeaseRecord } from './kube/port.ts';

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica (pod name plus a random suffix). */
  readonly identity: string;
  /** @default 15000 */
  readonly leaseDurationMs?: number;
  /** @default 10000 */
  readonly renewDeadlineMs?: number;
  /** @default 2000 */
  readonly retryPeriodMs?: number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Leadership is lost (or released): stop acting at once. */
  onStoppedLeading(): void;
  /** Someone (this replica or another) holds the Lease; called when the holder changes. */
  onNewLeader?(identity: string): void;
}

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  private leading = false;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly leases: LeaseClient,
    private readonly config: LeaderElectionConfig,
    private readonly callbacks: LeaderCallbacks,
    log: Logger = silentLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error(
        'leader election: leaseDuration must exceed renewDeadline, which must exceed retryPeriod',
      );
    }
    this.log = log.child({ lease: `${config.namespace}/${config.name}`, identity: config.identity });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder this replica last saw with an unexpired Lease (itself when leading), if any. */
  get leader(): string | undefined {
    if (this.leading) return this.config.identity;
    const holder = this.observed?.holderIdentity;
    if (!holder || !this.observed) return undefined;
    const duration = (this.observed.leaseDurationSeconds ?? 0) * 1000;
    return this.now() < this.observedAt + duration ? holder : undefined;
  }

  /** Campaigns, leads until the Lease is lost, and then returns (it does not campaign again). */
  run(): Promise<void> {
    this.loop ??= this.campaignAndLead();
    return this.loop;
  }

  /** Stops campaigning or leading and, if leading, releases the Lease so a standby takes over at once. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopController.abort();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      this.callbacks.onStoppedLeading();
      if (options.release ?? true) await this.release();
    }
  }

  private async campaignAndLead(): Promise<void> {
    const stop = this.stopController.signal;
    while (!stop.aborted && !(await this.tryAcquireOrRenew())) {
      await sleep(withJitter(this.retryPeriodMs, 0.2), stop);
    }
    if (stop.aborted) return;
    this.leading = true;
    this.log.info('became leader');
    this.callbacks.onStartedLeading();
    let lastRenew = this.now();
    while (!stop.aborted) {
      await sleep(this.retryPeriodMs, stop);
      if (stop.aborted) return;
      if (await this.tryAcquireOrRenew(lastRenew + this.renewDeadlineMs)) {
        lastRenew = this.now();
        continue;
      }
      if (
        this.now() - lastRenew >= this.renewDeadlineMs ||
        this.observed?.holderIdentity !== this.config.identity
      ) {
        this.leading = false;
        this.log.error('lost leadership: could not renew the Lease within the renew deadline', {
          renewDeadlineMs: this.renewDeadlineMs,
          holder: this.observed?.holderIdentity,
        });
        this.callbacks.onStoppedLeading();
        return;
      }
    }
  }

  /** One attempt to take or renew the Lease; false when someone else holds it or the write lost a race. */
  private async tryAcquireOrRenew(deadline?: number): Promise<boolean> {
    const key = { namespace: this.config.namespace, name: this.config.name };
    const me = this.config.identity;
    try {
      const current = await this.withDeadline(this.leases.getLease(key), deadline);
      const now = new Date(this.now());
      const leaseDurationSeconds = Math.ceil(this.leaseDurationMs / 1000);
      if (!current) {
        const created = await this.withDeadline(
          this.leases.createLease({
            ...key,
            holderIdentity: me,
            leaseDurationSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          }),
          deadline,
        );
        this.observe(created);
        return true;
      }
      this.observe(current);
      const holder = current.holderIdentity;
      const duration = (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (holder && holder !== me && this.now() < this.observedAt + duration) return false;
      const updated = await this.withDeadline(
        this.leases.replaceLease({
          ...key,
          resourceVersion: current.resourceVersion,
          holderIdentity: me,
          leaseDurationSeconds,
          acquireTime: holder === me ? (current.acquireTime ?? now) : now,
          renewTime: now,
          leaseTransitions:
            holder === me ? (current.leaseTransitions ?? 0) : (current.leaseTransitions ?? 0) + 1,
        }),
        deadline,
      );
      this.observe(updated);
      return true;
    } catch (error) {
      if (!isConflict(error)) this.log.warn('could not read or write the Lease', { error });
      return false;
    }
  }

  private async release(): Promise<void> {
    const key = { namespace: this.config.namespace, name: this.config.name };
    try {
      const current = await this.leases.getLease(key);
      if (!current || current.holderIdentity !== this.config.identity) return;
      await this.leases.replaceLease({
        ...current,
        holderIdentity: undefined,
        leaseDurationSeconds: 1,
        renewTime: new Date(this.now()),
      });
      this.log.info('released the Lease');
    } catch (error) {
      this.log.warn('could not release the Lease; a standby takes over once it expires', { error });
    }
  }

  /** Records what was read, restarting the expiry clock when the record changed. */
  private observe(lease: LeaseRecord): void {
    const previous = this.observed;
    const changed =
      !previous ||
      previous.holderIdentity !== lease.holderIdentity ||
      previous.renewTime?.getTime() !== lease.renewTime?.getTime();
    this.observed = lease;
    if (changed) {
      this.observedAt = this.now();
      if (lease.holderIdentity && lease.holderIdentity !== previous?.holderIdentity) {
        this.log.info('leader is', { leader: lease.holderIdentity });
        this.callbacks.onNewLeader?.(lease.holderIdentity);
      }
    }
  }

  /** A renewal that outlives the renew deadline counts as failed, even if the request still succeeds later. */
  private withDeadline<T>(promise: Promise<T>, deadline: number | undefined): Promise<T> {
    if (deadline === undefined) return promise;
    const remaining = deadline - this.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('Lease request outlived the renew deadline')),
        Math.max(0, remaining),
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
