/**
 * The operator's Prometheus metrics on a registry of its own (not prom-client's global one), so
 * tests can run several managers in one process. Other modules register their metrics on
 * `registry`; /metrics serves all of it.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const PREFIX = 'kafka_backup_operator_';

export class OperatorMetrics {
  readonly registry: Registry;
  /** Keys waiting to be reconciled (not counting those in progress). */
  readonly queueDepth: Gauge;
  readonly queueAdds: Counter;
  /** Keys requeued with backoff after an error. */
  readonly queueRetries: Counter;
  /** Reconciles running now. */
  readonly reconcilesInFlight: Gauge<'kind'>;
  /** result: success, requeue (requeueAfter), error (retried), terminal_error (not retried). */
  readonly reconcileTotal: Counter<'kind' | 'result'>;
  readonly reconcileErrors: Counter<'kind'>;
  readonly reconcileDuration: Histogram<'kind'>;
  /** 1 while this replica holds the Lease (or leader election is off), else 0. */
  readonly leader: Gauge;
  /** Watches reopened, by why the previous one ended: closed, stalled, gone, error, short. */
  readonly watchRestarts: Counter<'kind' | 'namespace' | 'reason'>;
  readonly relists: Counter<'kind' | 'namespace'>;
  readonly informerSynced: Gauge<'kind' | 'namespace'>;

  constructor(registry: Registry = new Registry(), options: { processMetrics?: boolean } = {}) {
    this.registry = registry;
    const registers = [registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
    this.queueDepth = new Gauge({
      name: `${PREFIX}workqueue_depth`,
      help: 'Keys waiting in the work queue',
      registers,
    });
    this.queueAdds = new Counter({
      name: `${PREFIX}workqueue_adds_total`,
      help: 'Keys added to the work queue',
      registers,
    });
    this.queueRetries = new Counter({
      name: `${PREFIX}workqueue_retries_total`,
      help: 'Keys requeued with backoff after a failed reconcile',
      registers,
    });
    this.reconcilesInFlight = new Gauge({
      name: `${PREFIX}reconciles_in_flight`,
      help: 'Reconciles running now',
      labelNames: ['kind'],
      registers,
    });
    this.reconcileTotal = new Counter({
      name: `${PREFIX}reconcile_total`,
      help: 'Reconciles by kind and result (success, requeue, error, terminal_error)',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: `${PREFIX}reconcile_errors_total`,
      help: 'Reconciles that failed (retried or terminal)',
      labelNames: ['kind'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: `${PREFIX}reconcile_duration_seconds`,
      help: 'Time one reconcile took',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.leader = new Gauge({
      name: `${PREFIX}leader`,
      help: '1 while this replica is the leader (holds the Lease), else 0',
      registers,
    });
    this.watchRestarts = new Counter({
      name: `${PREFIX}watch_restarts_total`,
      help: 'Watches reopened, by why the previous one ended',
      labelNames: ['kind', 'namespace', 'reason'],
      registers,
    });
    this.relists = new Counter({
      name: `${PREFIX}relists_total`,
      help: 'Full lists of a kind (start, 410 Gone)',
      labelNames: ['kind', 'namespace'],
      registers,
    });
    this.informerSynced = new Gauge({
      name: `${PREFIX}informer_synced`,
      help: '1 once the cache of a kind holds a complete list',
      labelNames: ['kind', 'namespace'],
      registers,
    });
    this.leader.set(0);
  }
}
