import { uncoveredRanges, unionRanges } from '../format/manifest.ts';
import type { BackupManifest, OffsetRange } from '../format/types.ts';
import { tpKey } from '../offsets/group-offsets.ts';

/**
 * The source partitions' log-start and end offsets as a backup run saw them when it started, stored by
 * the engine as the backup document `source-watermarks/<runId>`. Validation proves against it that
 * the backup holds (or explains) every offset the source had.
 */
export function sourceWatermarksDocumentName(runId: string): string {
  return `source-watermarks/${runId}`;
}

export interface SourceWatermarksDocument {
  readonly version: 1;
  readonly runId: string;
  /** RFC 3339. */
  readonly capturedAt: string;
  readonly partitions: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly logStartOffset: string;
    /** The end a committed reader could reach (last stable offset). */
    readonly endOffset: string;
  }[];
}

/** Builds the document from the engine's captured watermarks (KafkaPort.watermarks()). */
export function sourceWatermarksDocument(
  runId: string,
  capturedAt: Date,
  marks: ReadonlyMap<string, { logStartOffset: bigint; endOffset: bigint }>,
): SourceWatermarksDocument {
  const partitions = [...marks].map(([key, m]) => {
    const slash = key.lastIndexOf('/');
    return {
      topic: key.slice(0, slash),
      partition: Number(key.slice(slash + 1)),
      logStartOffset: m.logStartOffset.toString(),
      endOffset: m.endOffset.toString(),
    };
  });
  partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  return { version: 1, runId, capturedAt: capturedAt.toISOString(), partitions };
}

export interface WatermarkFinding {
  readonly runId: string;
  readonly topic: string;
  readonly partition: number;
  readonly logStartOffset: string;
  readonly endOffset: string;
  /** Offsets in [logStartOffset, endOffset) the backup neither holds nor explains. */
  readonly missing: readonly { start: string; end: string }[];
  /** The run did not finish, so missing offsets are expected (warning, not failure). */
  readonly runUnfinished: boolean;
}

/** Compares each captured source range with what the backup covers over all its runs. */
export function compareWithWatermarks(
  manifest: BackupManifest,
  documents: readonly SourceWatermarksDocument[],
): WatermarkFinding[] {
  const covered = new Map<string, OffsetRange[]>();
  for (const t of manifest.topics) {
    for (const p of t.partitions) covered.set(tpKey(p.topic, p.partition), unionRanges(p.covered));
  }
  const finals = new Map(manifest.runs.map((r) => [r.runId, r.final]));
  const findings: WatermarkFinding[] = [];
  for (const doc of documents) {
    for (const w of doc.partitions) {
      const start = BigInt(w.logStartOffset);
      const end = BigInt(w.endOffset);
      const missing = uncoveredRanges(covered.get(tpKey(w.topic, w.partition)) ?? [], start, end);
      if (missing.length === 0) continue;
      findings.push({
        runId: doc.runId,
        topic: w.topic,
        partition: w.partition,
        logStartOffset: w.logStartOffset,
        endOffset: w.endOffset,
        missing: missing.map((m) => ({ start: m.start.toString(), end: m.end.toString() })),
        runUnfinished: finals.get(doc.runId) !== true,
      });
    }
  }
  return findings;
}
