import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperatorScale } from '../operator-scale.ts';
import { type Figures, ratio, type Spread } from './stats.ts';

export interface CaseResult {
  readonly name: string;
  readonly topic: {
    readonly records: number;
    readonly recordBytes: number;
    readonly partitions: number;
    readonly mib: number;
  };
  /** The read ceiling first, then the contenders. */
  readonly read: readonly Figures[];
  /** The write ceiling first, then the contenders. */
  readonly write: readonly Figures[];
  /** Costliest functions of one backup to a volume (BENCH_PROFILE=1). */
  readonly profile?: readonly { fn: string; selfPercent: number }[];
  /** Costliest functions of one restore from MinIO (BENCH_PROFILE=1). */
  readonly restoreProfile?: readonly { fn: string; selfPercent: number }[];
}

/** A first backup, then runs after 1 % new data, each preceded by one that finds nothing new. */
export interface IncrementalCost {
  readonly compression: 'zstd' | 'none';
  /** The new records ÷ those of the first run. */
  readonly share: number;
  readonly firstRunSeconds: number;
  readonly firstStoredBytes: number;
  /** Stored bytes of a run after 1 % new data ÷ the first run's. */
  readonly bytesFraction: Spread;
  /** Its time ÷ the first run's. */
  readonly secondsFraction: Spread;
  /** A run that finds nothing new: what every run costs (start, listing, lease, commit). */
  readonly nothingNewSeconds: Spread;
  /** Its time above that fixed cost ÷ the first run's above it: what the new data cost. */
  readonly aboveFixedFraction: Spread;
}

export interface Extras {
  readonly pitr: {
    readonly records: number;
    readonly windowRecords: number;
    readonly windowShare: number;
    readonly backupBytes: number;
    readonly bytesRead: number;
    readonly fractionRead: number;
    readonly ratioToShare: number;
    readonly restoreSeconds: number;
  };
  readonly incremental: {
    /** Records in the topic when first backed up; each later run finds `added` new ones. */
    readonly records: number;
    readonly added: number;
    readonly runs: readonly IncrementalCost[];
  };
  readonly memory: {
    readonly smallMiB: number;
    readonly bigMiB: number;
    readonly smallPeakRssMiB: Spread;
    readonly bigPeakRssMiB: Spread;
    readonly growth: number;
    readonly big: Figures;
  };
  readonly operator?: OperatorScale | { readonly skipped: string };
}

export interface Report {
  readonly date: string;
  readonly quick: boolean;
  readonly minutes: number;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryGiB: number };
  readonly versions: Readonly<Record<string, string>>;
  readonly kafka: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly rust: {
    readonly version?: string;
    readonly failed: readonly { version: string; error: string }[];
    readonly skipped?: boolean;
  };
  readonly cases: readonly CaseResult[];
  readonly extras?: Extras;
}

const fmt = (s: Spread | undefined, digits = 1): string =>
  s === undefined ? '' : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

function table(rows: readonly Figures[], references: readonly Figures[]): string[] {
  const refNames = references.map((r) => r.name.replace(/ \(.*\)$/, ''));
  return [
    `| contender | MB/s | records/s | CPU s | peak RSS MiB | ${refNames.map((n) => `× ${n}`).join(' | ')} |`,
    `|---|---:|---:|---:|---:|${references.map(() => '---:').join('|')}|`,
    ...rows.map(
      (f) =>
        `| ${f.name} | ${fmt(f.mbPerSec)} | ${fmt(f.recordsPerSec, 0)} | ${fmt(f.cpuSeconds)} | ${fmt(f.peakRssMiB, 0)} | ` +
        `${references.map((r) => (r === f ? '—' : ratio(f, r).toFixed(2))).join(' | ')} |`,
    ),
  ];
}

/** The headline ratios of a case: ours against each reference, by median throughput. */
export function headline(c: CaseResult): Record<string, number> {
  const find = (list: readonly Figures[], prefix: string) => list.find((f) => f.name.startsWith(prefix));
  const out: Record<string, number> = {};
  const readCeiling = c.read[0];
  const writeCeiling = c.write[0];
  const pairs: [string, Figures | undefined, Figures | undefined][] = [
    ['backup → volume ÷ read ceiling', find(c.read, 'kafka-backup backup → volume'), readCeiling],
    ['backup → MinIO ÷ read ceiling', find(c.read, 'kafka-backup backup → MinIO'), readCeiling],
    ['restore ÷ write ceiling', find(c.write, 'kafka-backup restore'), writeCeiling],
    [
      'backup → volume ÷ Rust engine',
      find(c.read, 'kafka-backup backup → volume'),
      find(c.read, 'Rust engine backup → volume'),
    ],
    [
      'backup → MinIO ÷ Rust engine',
      find(c.read, 'kafka-backup backup → MinIO'),
      find(c.read, 'Rust engine backup → MinIO'),
    ],
    ['restore ÷ Rust engine', find(c.write, 'kafka-backup restore'), find(c.write, 'Rust engine restore')],
  ];
  for (const [name, ours, ref] of pairs) if (ours && ref) out[name] = ratio(ours, ref);
  return out;
}

export function writeReport(dir: string, name: string, report: Report): void {
  mkdirSync(dir, { recursive: true });
  const md: string[] = [
    `# Benchmark ${report.date}${report.quick ? ' (quick)' : ''}`,
    '',
    `${report.machine.cpus} cores (${report.machine.cpuModel}), ${report.machine.memoryGiB} GiB; ` +
      `Kafka ${report.kafka}; ${Object.entries(report.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}. ${report.minutes} minutes.`,
    '',
    `Every figure is the median of ${report.parameters.runsPerContender} runs, min–max in parentheses. ` +
      'MB/s counts record payload (MiB of values) per wall-clock second of the whole process, start-up ' +
      "included, except Kafka's tools, whose own clocks leave out the JVM's start. Parameters: " +
      `${Object.entries(report.parameters)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    '',
    report.rust.version
      ? `Rust engine: kafka-backup-core ${report.rust.version} (bench/rust-engine/).`
      : report.rust.skipped
        ? 'Rust engine: left out of this run.'
        : 'Rust engine: did not build.',
    ...report.rust.failed.map((f) => `- kafka-backup-core ${f.version} did not build: ${f.error}`),
    '',
  ];
  for (const c of report.cases) {
    md.push(
      `## ${c.name}: ${c.topic.records} records of ${c.topic.recordBytes} B, ${c.topic.partitions} partition(s), ${c.topic.mib} MiB`,
      '',
      '### Reading (backup)',
      '',
      ...table(c.read, [c.read[0] as Figures, ...c.read.filter((f) => f.name.startsWith('Rust'))]),
      '',
      '### Writing (restore)',
      '',
      ...table(c.write, [c.write[0] as Figures, ...c.write.filter((f) => f.name.startsWith('Rust'))]),
      '',
      '| ratio | value |',
      '|---|---:|',
      ...Object.entries(headline(c)).map(([k, v]) => `| ${k} | ${v.toFixed(2)} |`),
      '',
    );
    for (const [what, profile] of [
      ['a backup to a volume', c.profile],
      ['a restore from MinIO', c.restoreProfile],
    ] as const) {
      if (!profile) continue;
      md.push(
        `Costliest functions of ${what} (self time, % of busy time):`,
        '',
        '| function | self % |',
        '|---|---:|',
        ...profile.map((p) => `| \`${p.fn}\` | ${p.selfPercent} |`),
        '',
      );
    }
  }
  const x = report.extras;
  if (x) {
    md.push(
      '## The format at work',
      '',
      '| measure | value | goal |',
      '|---|---:|---|',
      `| PITR: bytes read to restore 1 h of 24 h, ÷ the backup | ${x.pitr.fractionRead} (${x.pitr.bytesRead} of ${x.pitr.backupBytes} B; ${x.pitr.windowRecords} records) | ≤ 1.2 × ${x.pitr.windowShare} |`,
      `| PITR: that ÷ the window's share | ${x.pitr.ratioToShare} | ≤ 1.2 |`,
      ...x.incremental.runs.flatMap((r) => {
        const goal = `≤ 1.2 × ${r.share}`;
        const c = `compression ${r.compression}`;
        return [
          `| incremental, ${c}: stored bytes of a run after 1 % new data ÷ the first run's (${r.firstStoredBytes} B) | ${fmt(r.bytesFraction, 4)} | ${goal} |`,
          `| incremental, ${c}: its time ÷ the first run's (${r.firstRunSeconds} s) | ${fmt(r.secondsFraction, 4)} | ${goal} |`,
          `| incremental, ${c}: a run that finds nothing new (s) | ${fmt(r.nothingNewSeconds, 3)} | |`,
          `| incremental, ${c}: its time above that ÷ the first run's above it | ${fmt(r.aboveFixedFraction, 4)} | ${goal} |`,
        ];
      }),
      `| memory: peak RSS backing up ${x.memory.bigMiB} MiB ÷ ${x.memory.smallMiB} MiB | ${x.memory.growth} (${fmt(x.memory.bigPeakRssMiB, 0)} vs ${fmt(x.memory.smallPeakRssMiB, 0)} MiB) | ≤ 1.2 |`,
      '',
      ...operatorLines(x.operator),
    );
  }
  const text = `${md.join('\n')}\n`;
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.md`), text);
  process.stdout.write(text);
  process.stderr.write(`[bench] written to ${dir}/${name}.{json,md}\n`);
}

function operatorLines(o: OperatorScale | { readonly skipped: string } | undefined): string[] {
  if (!o) return [];
  if ('skipped' in o) return [`Operator scale: not measured (${o.skipped}).`, ''];
  return [
    `## Operator scale: ${o.resources} scheduled KafkaBackup resources, one operator process`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| time from the operator's start until every resource is Ready | ${o.secondsToAllReady} s |`,
    `| operator RSS once settled (peak) | ${o.rssMiB} MiB (${o.peakRssMiB} MiB) |`,
    `| API server requests per minute once settled (${o.settledMinutes} min), every client's | ${o.apiRequestsPerMinute} |`,
    `| the same over a minute before the operator started (the node's kubelet, controller-manager, scheduler) | ${o.backgroundRequestsPerMinute} |`,
    '',
    `Client-side limit of the operator's API requests: ${o.apiRateLimit}.`,
    '',
    'The operator runs bundled (build/cli/kafka-backup.js) with plain node, as the image runs it' +
      (o.memoryLimitMiB === undefined
        ? ', with no memory limit.'
        : `, in a memory cgroup of ${o.memoryLimitMiB} MiB (as a Pod's limit: Node sizes its heap after it).`),
    '',
  ];
}

export function writeOperatorScale(dir: string, o: OperatorScale | { readonly skipped: string }): void {
  mkdirSync(dir, { recursive: true });
  const text = `${[`# Operator scale ${new Date().toISOString()}`, '', ...operatorLines(o)].join('\n')}\n`;
  writeFileSync(join(dir, 'operator-scale.json'), `${JSON.stringify(o, null, 2)}\n`);
  writeFileSync(join(dir, 'operator-scale.md'), text);
  process.stdout.write(text);
}
