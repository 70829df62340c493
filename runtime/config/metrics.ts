import type { MeterOptions } from '../metrics/live-run-metrics.ts';
import type { Reader } from './reader.ts';

/**
 * The spec's `metrics` block (KafkaBackup; KafkaRestore without maxPartitionLabels). The operator
 * serves every run's figures on its own /metrics, so there only `enabled` (this resource's series
 * or none), `updateIntervalMs` and `maxPartitionLabels` apply; `kafka-backup backup|restore` serves
 * them itself on `bindAddress:port` + `path` when the block is present and enabled.
 */
export interface MetricsSettings extends MeterOptions {
  readonly enabled: boolean;
  readonly bindAddress: string;
  readonly port: number;
  readonly path: string;
}

/** The CRD's defaults, which the API server fills in and the CLI applies itself. */
export const METRICS_DEFAULTS: MetricsSettings = {
  enabled: true,
  bindAddress: '0.0.0.0',
  port: 9090,
  path: '/metrics',
  updateIntervalMs: 500,
  maxPartitionLabels: 100,
};

/** undefined when the spec has no metrics block. */
export function readMetrics(
  r: Reader,
  options: { readonly partitionLabels: boolean },
): MetricsSettings | undefined {
  if (!r.has('metrics')) {
    r.accept('metrics');
    return undefined;
  }
  const m = r.object('metrics');
  if (!m) return undefined;
  const d = METRICS_DEFAULTS;
  const enabled = m.boolean('enabled', d.enabled);
  const port = m.integer('port', { min: 1, max: 65535 }) ?? d.port;
  const bindAddress = m.string('bindAddress') ?? d.bindAddress;
  if (bindAddress.trim() === '' || /\s/.test(bindAddress)) {
    m.problem(
      'bindAddress',
      `expected an IP address or a host name to listen on (e.g. 0.0.0.0 or 127.0.0.1), got "${bindAddress}"`,
    );
  }
  const path = m.string('path') ?? d.path;
  if (!path.startsWith('/') || /[\s?#]/.test(path)) {
    m.problem('path', `expected a URL path starting with '/' (e.g. /metrics), got "${path}"`);
  }
  const updateIntervalMs = m.integer('updateIntervalMs', { min: 1 }) ?? d.updateIntervalMs;
  const maxPartitionLabels = options.partitionLabels
    ? (m.integer('maxPartitionLabels', { min: 0 }) ?? d.maxPartitionLabels)
    : d.maxPartitionLabels;
  m.finish();
  return { enabled, bindAddress, port, path, updateIntervalMs, maxPartitionLabels };
}

/** What the run's meter uses: undefined when the spec turned this resource's metrics off. */
export function meterOptions(settings: MetricsSettings | undefined): MeterOptions | undefined {
  const s = settings ?? METRICS_DEFAULTS;
  if (!s.enabled) return undefined;
  return { updateIntervalMs: s.updateIntervalMs, maxPartitionLabels: s.maxPartitionLabels };
}
