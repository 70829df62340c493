/**
 * Fields of the previous operator's API that cannot work here and are therefore not in the CRDs
 * (never accepted and ignored). The API reference lists them with the reason
 * (scripts/gen-api-docs.ts), and the CLI refuses them with the same reason, so YAML written for
 * the previous operator fails with what to do instead of being half-applied.
 */
export interface RemovedField {
  /** The kinds whose spec had it. */
  readonly kinds: readonly string[];
  /** Path under spec. */
  readonly path: string;
  /** Why it cannot work, and what to use instead. */
  readonly reason: string;
}

const ALL_KINDS = [
  'KafkaBackup',
  'KafkaRestore',
  'KafkaOffsetReset',
  'KafkaOffsetRollback',
  'KafkaBackupValidation',
];

export const REMOVED_FIELDS = {
  keepaliveIntervalSecs: {
    kinds: ALL_KINDS,
    path: 'kafkaCluster.connection.keepaliveIntervalSecs',
    reason:
      'Node.js sets the interval between TCP keepalive probes itself (libuv: 1 s, 10 probes) and offers no way to choose it per connection; tcpKeepalive and keepaliveTimeSecs (idle time before the first probe) work',
  },
  checkpointStorage: {
    kinds: ['KafkaBackup'],
    path: 'checkpoint.storage',
    reason:
      "checkpoints are commits in the backup's own storage, so any operator replica resumes a run from them; a separate volume would be a second, diverging record of progress",
  },
  snapshotStorage: {
    kinds: ['KafkaRestore'],
    path: 'rollback.snapshotStorage',
    reason:
      "offset snapshots are documents in the backup's own storage, where KafkaOffsetRollback finds them by the restore's name; a separate volume would be a second place to look",
  },
} as const satisfies Record<string, RemovedField>;
