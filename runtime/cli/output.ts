import type { Progress } from '../engine/progress.ts';

export type OutputFormat = 'text' | 'json';

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The result of a command on stdout: JSON for scripts, a short summary for people. */
export function printResult(format: OutputFormat, kind: string, result: object): void {
  if (format === 'json') {
    process.stdout.write(`${toJson({ ok: true, command: kind, ...result })}\n`);
    return;
  }
  const r = result as Record<string, unknown>;
  const lines: string[] = [];
  switch (kind) {
    case 'backup': {
      const gaps = r.gaps as { retention: number; compaction: number; transactionMarkers: number };
      lines.push(
        `backup ${r.backupId} run ${r.runId} (${r.mode}): ${r.records} records from ${(r.partitions as unknown[]).length} partitions of ${(r.topics as unknown[]).length} topics`,
        `  ${formatBytes(r.bytes as number)} read, ${formatBytes(r.storedBytes as number)} stored in ${r.segments} segments, ${duration(r.durationMs as number)}`,
        `  ${Math.round(r.recordsPerSec as number)} records/s, ${formatBytes(r.bytesPerSec as number)}/s`,
      );
      if (gaps.retention > 0) {
        lines.push(
          `  WARNING: ${gaps.retention} offsets were deleted by retention before they could be read (recorded in the manifest)`,
        );
      }
      if (gaps.compaction + gaps.transactionMarkers > 0) {
        lines.push(
          `  offsets without records: ${gaps.compaction} compacted away, ${gaps.transactionMarkers} transaction markers or aborted`,
        );
      }
      break;
    }
    case 'restore-plan':
    case 'restore': {
      const plan = r.plan as {
        topics: { source: string[]; target: string; partitions: number; repartitioned: boolean }[];
        partitions: number;
        maxRecords: number;
        bytes: number;
        segments: number;
        timeRange: { start: string; end: string } | null;
        window: Record<string, string>;
      };
      lines.push(
        `${kind === 'restore' ? 'restored' : 'dry run, nothing written:'} backup ${r.backupId} (restore id ${r.restoreId})`,
      );
      for (const t of plan.topics) {
        lines.push(
          `  ${t.source.join(', ')} -> ${t.target} (${t.partitions} partitions${t.repartitioned ? ', repartitioned' : ''})`,
        );
      }
      lines.push(
        `  ${plan.partitions} source partitions, ${plan.segments} segments, ${formatBytes(plan.bytes)}, up to ${plan.maxRecords} records`,
      );
      if (plan.timeRange) lines.push(`  time range ${plan.timeRange.start} .. ${plan.timeRange.end}`);
      if (Object.keys(plan.window).length > 0) lines.push(`  window ${JSON.stringify(plan.window)}`);
      if (kind === 'restore') {
        lines.push(
          `  ${r.records} records produced in ${duration(r.durationMs as number)} (${Math.round(r.recordsPerSec as number)} records/s, ${formatBytes(r.bytesPerSec as number)}/s)${r.resumed ? `, resumed (${r.reconciled} records written before the interruption were found on the target)` : ''}`,
          `  offset mapping: ${r.offsetMapping}`,
        );
      }
      break;
    }
    case 'list': {
      const backups = r.backups as { backupId: string; format: string; createdAt: number }[];
      lines.push(`${backups.length} backups in ${r.storage}`);
      for (const b of backups)
        lines.push(`  ${b.backupId}  ${new Date(b.createdAt).toISOString()}  ${b.format}`);
      break;
    }
    case 'describe': {
      lines.push(
        `backup ${r.backupId} (${r.format}, ${r.compression}${r.encrypted ? ', encrypted' : ''}), created ${r.createdAt}`,
      );
      for (const run of r.runs as { runId: string; mode: string; records: number; final: boolean }[]) {
        lines.push(
          `  run ${run.runId} ${run.mode}: ${run.records} records${run.final ? '' : ' (unfinished)'}`,
        );
      }
      for (const t of r.topics as {
        name: string;
        records: number;
        bytes: number;
        partitions: { partition: number; records: number; covered: string[][]; gaps: { reason: string }[] }[];
      }[]) {
        lines.push(`  topic ${t.name}: ${t.records} records, ${formatBytes(t.bytes)}`);
        for (const p of t.partitions) {
          const range = p.covered.map(([a, b]) => `${a}..${BigInt(b as string) - 1n}`).join(', ') || 'empty';
          lines.push(`    ${p.partition}: offsets ${range}, ${p.records} records, ${p.gaps.length} gaps`);
        }
      }
      break;
    }
    case 'verify': {
      const problems = r.problems as { object?: string; problem: string }[];
      lines.push(
        `${r.ok ? 'OK' : 'FAILED'}: backup ${r.backupId}, ${r.segmentsChecked} segments checked (${r.deep ? 'deep' : 'quick'})`,
      );
      for (const p of problems) lines.push(`  ${p.object ? `${p.object}: ` : ''}${p.problem}`);
      break;
    }
    case 'prune': {
      const runs = r.runs as { runId: string; lastCommitTime: string; decision: string; reasons: string[] }[];
      const eligible = (r.eligibleRuns as string[]).length;
      lines.push(
        `${r.dryRun ? 'dry run, nothing deleted: ' : ''}backup ${r.backupId}: ${eligible} of ${runs.length} runs ` +
          `${r.dryRun ? 'would be deleted' : 'eligible'} (${formatBytes(r.eligibleBytes as number)})`,
      );
      for (const run of runs) {
        lines.push(`  ${run.runId}  ${run.lastCommitTime}  ${run.decision} (${run.reasons.join(', ')})`);
      }
      if (!r.dryRun) {
        lines.push(
          `  ${(r.prunedRuns as string[]).length} runs pruned, ${r.deletedObjects} objects deleted, ${formatBytes(r.reclaimedBytes as number)} reclaimed`,
        );
      }
      break;
    }
    default:
      lines.push(toJson(result));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One line on a terminal, rewritten in place: records, throughput, ETA. */
export class ProgressLine {
  readonly #label: string;
  #last = 0;
  #shown = false;
  constructor(label: string) {
    this.#label = label;
  }

  update(p: Progress): void {
    const now = performance.now();
    if (now - this.#last < 200) return;
    this.#last = now;
    const pct = p.percent !== undefined ? ` ${p.percent.toFixed(1)}%` : '';
    const width = 24;
    const filled = p.totalRecords
      ? Math.round((Math.min(p.records, p.totalRecords) / p.totalRecords) * width)
      : 0;
    const bar = p.totalRecords ? ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]` : '';
    const eta = p.etaMs !== undefined ? ` ETA ${duration(p.etaMs)}` : '';
    const line = `${this.#label}${bar}${pct} ${p.records}${p.totalRecords ? `/${p.totalRecords}` : ''} records  ${Math.round(p.recordsPerSec)} rec/s  ${formatBytes(p.bytesPerSec)}/s${eta}`;
    process.stderr.write(`\r\x1b[K${line}`);
    this.#shown = true;
  }

  done(): void {
    if (this.#shown) process.stderr.write('\n');
    this.#shown = false;
  }
}
