import { randomBytes } from 'node:crypto';
import type { CheckResult } from '../evidence/report.ts';
import { CorruptObjectError } from '../format/errors.ts';
import type { ReadableBackup } from '../format/repository.ts';
import type { BackupManifest, OffsetRange, PartitionState, SegmentEntry } from '../format/types.ts';
import type { KafkaPort } from '../kafka/port.ts';
import { mapLimit } from '../offsets/concurrency.ts';
import { type ClusterCheckOptions, clusterChecks } from './cluster-checks.ts';
import { checkContinuity, expectedRecordCount, innerHoles } from './continuity.ts';
import { type BackupGroupSnapshot, checkGroupSnapshot, loadBackupGroupSnapshot } from './group-snapshot.ts';
import { restoreSampleCheck } from './restore-sample.ts';
import {
  compareWithWatermarks,
  type SourceWatermarksDocument,
  sourceWatermarksDocumentName,
} from './source-watermarks.ts';

/**
 * Validation of one backup: each check returns a CheckResult naming what failed, so a corrupt
 * backup fails with the failing check named. Checks never stop at the first problem: the report
 * lists every damaged object and every unexplained gap.
 */
export interface ValidationOptions {
  /** Checksum and decode every segment (default: existence and size only). */
  readonly deep?: boolean;
  /**
   * Read every segment object (checks.integrity.enabled). Default true. Off, the segment-integrity
   * check is reported skipped and no segment is read.
   */
  readonly integrity?: boolean;
  /** Partitions checked at once. Default 4. */
  readonly parallelism?: number;
  /** Restores a sample into a scratch topic on this cluster and compares byte for byte. */
  readonly restoreCheck?: {
    readonly kafka: KafkaPort;
    /** Segments per partition to restore (spread over the partition), or 'all'. Default 1. */
    readonly sample?: number | 'all';
    /** Default `kafka-backup-validation`. */
    readonly scratchTopicPrefix?: string;
  };
  /** Compares a cluster (typically the one restored into) with the backup: see cluster-checks.ts. */
  readonly cluster?: Omit<ClusterCheckOptions, 'groupSnapshot' | 'maxFindings'>;
  /** Cap on detailed findings per check in the report (the counts are always complete). Default 50. */
  readonly maxFindings?: number;
  readonly now?: () => number;
}

export async function validateBackup(
  backup: ReadableBackup,
  options: ValidationOptions = {},
): Promise<CheckResult[]> {
  const now = options.now ?? (() => performance.now());
  const maxFindings = options.maxFindings ?? 50;
  const manifest = await backup.manifest();
  const partitions = manifest.topics.flatMap((t) =>
    t.partitions.map((p) => ({ p, configs: t.metadata.configs })),
  );

  const integrity = options.integrity ?? true;
  const started = now();
  const scans = integrity
    ? await mapLimit(partitions, options.parallelism ?? 4, ({ p }) =>
        scanPartition(backup, p, options.deep ?? false),
      )
    : partitions.map(({ p }) => unscanned(p));
  const scanMs = now() - started;

  const results: CheckResult[] = [];
  results.push(
    integrity
      ? integrityResult(scans, options.deep ?? false, maxFindings, scanMs)
      : {
          name: 'segment-integrity',
          outcome: 'skipped',
          summary: 'the integrity check is disabled (checks.integrity.enabled is false): no segment was read',
        },
  );
  results.push(
    recordCountResult(
      partitions.map((x) => x.p),
      scans,
      options.deep ?? false,
      maxFindings,
    ),
  );
  results.push(continuityResult(partitions, scans, options.deep ?? false, maxFindings));
  results.push(await timed(now, () => watermarkResult(backup, manifest, maxFindings)));
  results.push(await timed(now, () => groupSnapshotResult(backup, manifest, maxFindings)));
  if (options.cluster) {
    const cluster = options.cluster;
    const started = now();
    const snapshot = await loadBackupGroupSnapshot(backup).catch(() => undefined);
    const checks = await clusterChecks(manifest, {
      ...cluster,
      ...(snapshot ? { groupSnapshot: snapshot } : {}),
      maxFindings,
    });
    const each = Math.round((now() - started) / Math.max(1, checks.length));
    results.push(...checks.map((c) => ({ ...c, durationMs: each })));
  }
  if (options.restoreCheck) {
    const rc = options.restoreCheck;
    results.push(
      await timed(now, async () => {
        const corrupt = new Set(scans.flatMap((s) => s.failures.map((f) => f.key)));
        return restoreSampleCheck(backup, manifest, {
          kafka: rc.kafka,
          sample: rc.sample ?? 1,
          scratchTopic: scratchTopicName(rc.scratchTopicPrefix ?? 'kafka-backup-validation', backup.backupId),
          skipKeys: corrupt,
          maxFindings,
        });
      }),
    );
  } else {
    results.push({
      name: 'restore-sample',
      outcome: 'skipped',
      summary:
        'no cluster given for the restore check (pass a scratch cluster to restore a sample and compare it)',
    });
  }
  return results;
}

export function scratchTopicName(prefix: string, backupId: string): string {
  const clean = backupId.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 150);
  return `${prefix}-${clean}-${randomBytes(4).toString('hex')}`;
}

interface PartitionScan {
  readonly topic: string;
  readonly partition: number;
  readonly segments: number;
  readonly failures: { key: string; reason: string }[];
  /** Deep mode: distinct records decoded (overlapping segments counted once). */
  readonly decodedRecords: bigint;
  /** Deep mode: per-segment count mismatches with the manifest. */
  readonly countMismatches: { key: string; manifest: number; decoded: number }[];
  readonly innerHoles: OffsetRange[];
}

/** A partition whose segments were not read: the manifest-only checks still run on it. */
function unscanned(p: PartitionState): PartitionScan {
  return {
    topic: p.topic,
    partition: p.partition,
    segments: p.segments.length,
    failures: [],
    decodedRecords: 0n,
    countMismatches: [],
    innerHoles: [],
  };
}

async function scanPartition(
  backup: ReadableBackup,
  p: PartitionState,
  deep: boolean,
): Promise<PartitionScan> {
  const failures: PartitionScan['failures'] = [];
  const countMismatches: PartitionScan['countMismatches'] = [];
  const holes: OffsetRange[] = [];
  let decoded = 0n;
  let maxSeen = -1n;
  for (const s of p.segments) {
    try {
      if (!deep) {
        await backup.verifySegment(s, false);
        continue;
      }
      const { records } = await backup.readSegment(s);
      const problem = recordProblem(
        s,
        records.map((r) => r.offset),
      );
      if (problem) failures.push({ key: s.key, reason: problem });
      if (records.length !== s.recordCount) {
        countMismatches.push({ key: s.key, manifest: s.recordCount, decoded: records.length });
      }
      holes.push(
        ...innerHoles(
          records.map((r) => r.offset),
          s.firstOffset,
          s.lastOffset,
        ),
      );
      for (const r of records) {
        if (r.offset > maxSeen) {
          decoded += 1n;
          maxSeen = r.offset;
        }
      }
    } catch (error) {
      if (error instanceof CorruptObjectError) failures.push({ key: error.key, reason: error.reason });
      else failures.push({ key: s.key, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return {
    topic: p.topic,
    partition: p.partition,
    segments: p.segments.length,
    failures,
    decodedRecords: decoded,
    countMismatches,
    innerHoles: holes,
  };
}

function recordProblem(s: SegmentEntry, offsets: readonly bigint[]): string | undefined {
  for (let i = 1; i < offsets.length; i++) {
    if ((offsets[i] as bigint) <= (offsets[i - 1] as bigint))
      return `record offsets are not increasing at index ${i}`;
  }
  if (offsets.length > 0 && (offsets[0] !== s.firstOffset || offsets.at(-1) !== s.lastOffset)) {
    return `records span ${offsets[0]}..${offsets.at(-1)}, the manifest says ${s.firstOffset}..${s.lastOffset}`;
  }
  return undefined;
}

function integrityResult(
  scans: readonly PartitionScan[],
  deep: boolean,
  max: number,
  durationMs: number,
): CheckResult {
  const failures = scans.flatMap((s) => s.failures);
  const total = scans.reduce((n, s) => n + s.segments, 0);
  const what = deep ? 'checksum verified and decoded' : 'present with the recorded size';
  return {
    name: 'segment-integrity',
    outcome: failures.length > 0 ? 'failed' : total === 0 ? 'skipped' : 'passed',
    summary:
      failures.length > 0
        ? `${failures.length} of ${total} segment object(s) are corrupt, truncated or missing (first: ${failures[0]?.key})`
        : total === 0
          ? 'the backup has no segments'
          : `all ${total} segment object(s) ${what}`,
    details: {
      mode: deep ? 'deep' : 'quick',
      segments: total,
      failed: failures.length,
      failures: failures.slice(0, max),
    },
    durationMs: Math.round(durationMs),
  };
}

function recordCountResult(
  partitions: readonly PartitionState[],
  scans: readonly PartitionScan[],
  deep: boolean,
  max: number,
): CheckResult {
  const problems: Record<string, unknown>[] = [];
  const notes: string[] = [];
  let manifestTotal = 0n;
  partitions.forEach((p, i) => {
    const where = `${p.topic}/${p.partition}`;
    const { expected, stored, overlapping } = expectedRecordCount(p);
    manifestTotal += stored;
    const scan = scans[i] as PartitionScan;
    if (deep) {
      for (const m of scan.countMismatches) problems.push({ partition: where, ...m });
      if (scan.failures.length === 0 && scan.decodedRecords !== expected) {
        problems.push({
          partition: where,
          expected: expected.toString(),
          decoded: scan.decodedRecords.toString(),
        });
      }
    } else if (overlapping) {
      notes.push(`${where}: overlapping segments from a resumed run; the exact count needs deep mode`);
    } else if (stored !== expected) {
      problems.push({ partition: where, expected: expected.toString(), manifest: stored.toString() });
    }
  });
  return {
    name: 'record-counts',
    outcome: problems.length > 0 ? 'failed' : notes.length > 0 ? 'warning' : 'passed',
    summary:
      problems.length > 0
        ? `${problems.length} record count mismatch(es) between the manifest, the covered offsets and the segments`
        : `${manifestTotal} record(s) in ${partitions.length} partition(s) match the covered offsets minus explained gaps` +
          (deep ? ' and the decoded segments' : ''),
    details: {
      records: manifestTotal.toString(),
      mismatches: problems.slice(0, max),
      notes: notes.slice(0, max),
    },
  };
}

function continuityResult(
  partitions: readonly { p: PartitionState; configs: Readonly<Record<string, string>> }[],
  scans: readonly PartitionScan[],
  deep: boolean,
  max: number,
): CheckResult {
  const findings = partitions.map(({ p, configs }, i) =>
    checkContinuity(p, configs, deep ? (scans[i] as PartitionScan).innerHoles : []),
  );
  const unexplained = findings.flatMap((f) =>
    f.unexplained.map((u) => ({
      partition: `${f.topic}/${f.partition}`,
      start: u.start.toString(),
      end: u.end.toString(),
      where: u.where,
    })),
  );
  const warnings = findings.flatMap((f) => f.warnings);
  const explained: Record<string, bigint> = {};
  for (const f of findings) {
    for (const [reason, n] of Object.entries(f.explained))
      explained[reason] = (explained[reason] ?? 0n) + BigInt(n ?? '0');
  }
  const explainedText = Object.entries(explained)
    .map(([r, n]) => `${n} ${r}`)
    .join(', ');
  return {
    name: 'offset-continuity',
    outcome: unexplained.length > 0 ? 'failed' : warnings.length > 0 ? 'warning' : 'passed',
    summary:
      unexplained.length > 0
        ? `${unexplained.length} offset range(s) are neither backed up nor explained (first: ${unexplained[0]?.partition} ` +
          `[${unexplained[0]?.start}, ${unexplained[0]?.end}))`
        : `every offset of ${findings.length} partition(s) is backed up or explained${explainedText ? ` (${explainedText})` : ''}`,
    details: {
      mode: deep ? 'record-level' : 'segment-level',
      explainedOffsets: Object.fromEntries(Object.entries(explained).map(([k, v]) => [k, v.toString()])),
      unexplained: unexplained.slice(0, max),
      unexplainedCount: unexplained.length,
      warnings: warnings.slice(0, max),
    },
  };
}

async function watermarkResult(
  backup: ReadableBackup,
  manifest: BackupManifest,
  max: number,
): Promise<CheckResult> {
  const documents: SourceWatermarksDocument[] = [];
  for (const run of manifest.runs) {
    const doc = await backup.getDocument<SourceWatermarksDocument>(sourceWatermarksDocumentName(run.runId));
    if (doc) documents.push(doc);
  }
  if (documents.length === 0) {
    return {
      name: 'source-watermarks',
      outcome: 'skipped',
      summary:
        'the backup recorded no source watermarks for its runs, so it cannot be compared with the source',
    };
  }
  const findings = compareWithWatermarks(manifest, documents);
  const failing = findings.filter((f) => !f.runUnfinished);
  const partitions = documents.reduce((n, d) => n + d.partitions.length, 0);
  return {
    name: 'source-watermarks',
    outcome: failing.length > 0 ? 'failed' : findings.length > 0 ? 'warning' : 'passed',
    summary:
      failing.length > 0
        ? `${failing.length} partition(s) miss offsets the source had when the backup ran (first: ` +
          `${failing[0]?.topic}/${failing[0]?.partition} from ${failing[0]?.missing[0]?.start})`
        : findings.length > 0
          ? `${findings.length} partition(s) of unfinished runs do not reach the source's end offsets yet`
          : `all ${partitions} captured source range(s) over ${documents.length} run(s) are covered`,
    details: { runs: documents.map((d) => d.runId), partitions, findings: findings.slice(0, max) },
  };
}

async function groupSnapshotResult(
  backup: ReadableBackup,
  manifest: BackupManifest,
  max: number,
): Promise<CheckResult> {
  let snapshot: BackupGroupSnapshot | undefined;
  try {
    snapshot = await loadBackupGroupSnapshot(backup);
  } catch (error) {
    return {
      name: 'consumer-group-snapshot',
      outcome: 'failed',
      summary: `the consumer-group snapshot cannot be read: ${(error as Error).message}`,
    };
  }
  if (!snapshot) {
    return {
      name: 'consumer-group-snapshot',
      outcome: 'skipped',
      summary: 'the backup has no consumer-group snapshot (consumerGroupSnapshot was off)',
    };
  }
  const findings = checkGroupSnapshot(manifest, snapshot);
  const missing = findings.filter((f) => f.problem === 'partition-not-in-backup');
  const lost = findings.filter((f) => f.problem === 'before-backed-up-data');
  const ahead = findings.filter((f) => f.problem === 'beyond-backed-up-data');
  const offsets = [...snapshot.groups.values()].reduce((n, o) => n + o.length, 0);
  return {
    name: 'consumer-group-snapshot',
    outcome: missing.length > 0 ? 'failed' : lost.length > 0 ? 'warning' : 'passed',
    summary:
      missing.length > 0
        ? `${missing.length} committed offset(s) name partitions the backup does not hold (first: group ` +
          `${missing[0]?.group} on ${missing[0]?.topic}/${missing[0]?.partition})`
        : lost.length > 0
          ? `${lost.length} group position(s) are before the first backed-up offset: those unread records are not in the backup`
          : `${snapshot.groups.size} group(s), ${offsets} committed offset(s), all on backed-up partitions` +
            (ahead.length > 0 ? ` (${ahead.length} beyond the backed-up data, resuming at its end)` : ''),
    details: {
      groups: snapshot.groups.size,
      offsets,
      ...(snapshot.takenAt ? { takenAt: snapshot.takenAt } : {}),
      findings: findings.slice(0, max),
    },
  };
}

async function timed(now: () => number, fn: () => Promise<CheckResult>): Promise<CheckResult> {
  const start = now();
  const result = await fn();
  return { ...result, durationMs: Math.round(now() - start) };
}
