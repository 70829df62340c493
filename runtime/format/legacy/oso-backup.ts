import type { ObjectStore } from '../../storage/object-store.ts';
import { StorageError } from '../../storage/object-store.ts';
import { CorruptObjectError } from '../errors.ts';
import { mergeCommits } from '../manifest.ts';
import { checkSegmentPresent, parseJson, type ReadableBackup } from '../repository.ts';
import type { DecodedSegment, SegmentHeader } from '../segment.ts';
import type {
  BackupDescriptor,
  BackupManifest,
  BackupSummary,
  CommitRecord,
  Compression,
  OffsetGap,
  PartitionCommit,
  SegmentEntry,
  TopicMetadata,
} from '../types.ts';
import { decodeOsoSegment, type OsoDecodeOptions } from './oso-segment.ts';

/**
 * A backup written by the Rust tool: `{backupId}/manifest.json` plus its segments, mapped onto our
 * model as one final run 'oso-import'. Read-only. Their manifest has no checksums (each KBAK segment's
 * own CRC-32 and the recorded size are verified instead) and first/last rather than min/max
 * timestamps (so the planner never skips one of their segments on time).
 */
export const OSO_RUN_ID = 'oso-import';

export async function openOsoBackup(
  store: ObjectStore,
  backupId: string,
  options: OsoDecodeOptions = {},
): Promise<OsoBackup | undefined> {
  const key = `${backupId}/manifest.json`;
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (e) {
    if (e instanceof StorageError && e.kind === 'not-found') return undefined;
    throw e;
  }
  return new OsoBackup(store, backupId, mapOsoManifest(key, backupId, parseJson(key, bytes)), options);
}

/** Every `{id}/manifest.json` at the root: a full listing, as the Rust tool's own `list` does. */
export async function listOsoBackups(store: ObjectStore): Promise<BackupSummary[]> {
  const out: BackupSummary[] = [];
  for await (const info of store.list('')) {
    const m = /^([^/]+)\/manifest\.json$/.exec(info.key);
    if (!m) continue;
    const backupId = m[1] as string;
    try {
      const json = parseJson(info.key, await store.get(info.key)) as { created_at?: unknown };
      const createdAt =
        typeof json.created_at === 'number' ? json.created_at : (info.lastModified?.getTime() ?? 0);
      out.push({ backupId, format: 'oso-rust', createdAt });
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not-found') continue;
      throw e;
    }
  }
  return out;
}

export class OsoBackup implements ReadableBackup {
  readonly format = 'oso-rust' as const;
  constructor(
    readonly store: ObjectStore,
    readonly backupId: string,
    private readonly mapped: BackupManifest,
    private readonly options: OsoDecodeOptions,
  ) {}

  async manifest(): Promise<BackupManifest> {
    return this.mapped;
  }

  async readSegment(entry: SegmentEntry): Promise<DecodedSegment> {
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(entry.key);
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not-found') {
        throw new CorruptObjectError(entry.key, 'the object is missing from storage');
      }
      throw e;
    }
    if (entry.size > 0 && bytes.length !== entry.size) {
      throw new CorruptObjectError(
        entry.key,
        `size ${bytes.length} bytes, the manifest recorded ${entry.size}`,
      );
    }
    const { header, records } = decodeOsoSegment(bytes, entry.key, this.options);
    const first = records[0];
    const last = records[records.length - 1];
    if (records.length !== entry.recordCount || !first || !last) {
      throw new CorruptObjectError(
        entry.key,
        `holds ${records.length} records, the manifest says ${entry.recordCount}`,
      );
    }
    if (first.offset !== entry.firstOffset || last.offset !== entry.lastOffset) {
      throw new CorruptObjectError(entry.key, 'record offsets disagree with the manifest');
    }
    let minTimestamp = first.timestamp;
    let maxTimestamp = first.timestamp;
    for (const r of records) {
      if (r.timestamp < minTimestamp) minTimestamp = r.timestamp;
      if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    }
    const h: SegmentHeader = {
      version: 0,
      compression: header?.compression ?? entry.compression,
      encrypted: false,
      uncompressedSize: entry.uncompressedSize,
      nonce: new Uint8Array(12),
      recordCount: records.length,
      firstOffset: first.offset,
      lastOffset: last.offset,
      minTimestamp,
      maxTimestamp,
    };
    return { header: h, records };
  }

  async verifySegment(entry: SegmentEntry, deep: boolean): Promise<void> {
    if (deep) await this.readSegment(entry);
    else await checkSegmentPresent(this.store, entry);
  }

  /** Their documents sit beside the manifest, e.g. 'consumer-groups-snapshot' or 'offset-mapping'. */
  async getDocument<T = unknown>(name: string): Promise<T | undefined> {
    const key = `${this.backupId}/${name}.json`;
    try {
      return parseJson(key, await this.store.get(key)) as T;
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not-found') return undefined;
      throw e;
    }
  }
}

/** Maps the Rust tool's manifest.json (snake_case, epoch-ms numbers) onto our merged manifest. */
export function mapOsoManifest(key: string, backupId: string, json: unknown): BackupManifest {
  const fail = (what: string): never => {
    throw new CorruptObjectError(key, `not a kafka-backup (Rust) manifest: ${what}`);
  };
  const m = (typeof json === 'object' && json !== null ? json : fail('not an object')) as Record<
    string,
    unknown
  >;
  const int = (v: unknown, what: string): number =>
    typeof v === 'number' && Number.isSafeInteger(v) ? v : fail(`${what} is not an integer`);
  const createdAt = int(m.created_at ?? 0, 'created_at');
  const compression = codecOf(m.compression);
  const topicsJson = Array.isArray(m.topics) ? m.topics : fail('topics is not an array');
  const topics: TopicMetadata[] = [];
  const partitions: PartitionCommit[] = [];
  for (const tj of topicsJson as Record<string, unknown>[]) {
    const name = typeof tj?.name === 'string' ? tj.name : fail('a topic has no name');
    const parts = Array.isArray(tj.partitions) ? (tj.partitions as Record<string, unknown>[]) : [];
    let maxPartition = -1;
    for (const pj of parts) {
      const partition = int(pj.partition_id, `${name} partition_id`);
      maxPartition = Math.max(maxPartition, partition);
      const segs = Array.isArray(pj.segments) ? (pj.segments as Record<string, unknown>[]) : [];
      const segments: SegmentEntry[] = segs.map((s) => {
        const segKey =
          typeof s.key === 'string' ? s.key : fail(`a segment of ${name}/${partition} has no key`);
        return {
          topic: name,
          partition,
          key: segKey,
          firstOffset: BigInt(int(s.start_offset, 'start_offset')),
          lastOffset: BigInt(int(s.end_offset, 'end_offset')),
          minTimestamp: BigInt(int(s.start_timestamp ?? 0, 'start_timestamp')),
          maxTimestamp: BigInt(int(s.end_timestamp ?? 0, 'end_timestamp')),
          recordCount: int(s.record_count, 'record_count'),
          size: int(s.compressed_size ?? 0, 'compressed_size'),
          uncompressedSize: int(s.uncompressed_size ?? 0, 'uncompressed_size'),
          compression: segKey.endsWith('.zst') ? 'zstd' : segKey.endsWith('.lz4') ? 'lz4' : compression,
          encrypted: false,
          sha256: undefined,
          runId: OSO_RUN_ID,
          timestampsAreBounds: false,
        };
      });
      segments.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
      const gaps: OffsetGap[] = (Array.isArray(pj.gaps) ? (pj.gaps as Record<string, unknown>[]) : []).map(
        (g) => ({
          start: BigInt(int(g.start_offset, 'gap start_offset')),
          end: BigInt(int(g.end_offset, 'gap end_offset')),
          reason: g.reason === 'offset_out_of_range' ? 'retention' : 'unknown',
          ...(typeof g.detected_at === 'number' ? { detectedAt: g.detected_at } : {}),
        }),
      );
      const starts = [...segments.map((s) => s.firstOffset), ...gaps.map((g) => g.start)];
      const ends = [...segments.map((s) => s.lastOffset + 1n), ...gaps.map((g) => g.end)];
      const covered =
        starts.length > 0
          ? { start: starts.reduce(minBigint), end: ends.reduce(maxBigint) }
          : { start: 0n, end: 0n };
      partitions.push({ topic: name, partition, segments, gaps, covered });
    }
    const count =
      typeof tj.original_partition_count === 'number' ? tj.original_partition_count : maxPartition + 1;
    topics.push({ name, partitionCount: Math.max(1, count), configs: {} });
  }
  const clusterId = typeof m.source_cluster_id === 'string' ? m.source_cluster_id : undefined;
  const brokers = Array.isArray(m.source_brokers) ? (m.source_brokers as string[]) : [];
  const descriptor: BackupDescriptor = {
    formatVersion: 0,
    backupId,
    createdAt,
    compression,
    encryption: null,
    ...(clusterId || brokers.length > 0
      ? {
          source: {
            ...(clusterId ? { clusterId } : {}),
            ...(brokers.length ? { bootstrapServers: brokers } : {}),
          },
        }
      : {}),
  };
  const commit: CommitRecord = {
    formatVersion: 0,
    backupId,
    seq: 0,
    runId: OSO_RUN_ID,
    mode: 'one-shot',
    final: true,
    committedAt: createdAt,
    topics,
    partitions,
  };
  return mergeCommits(descriptor, [commit], 'oso-rust');
}

function codecOf(v: unknown): Compression {
  return v === 'zstd' || v === 'lz4' || v === 'none' ? v : 'zstd';
}

function minBigint(a: bigint, b: bigint): bigint {
  if (b < a) return b;
  return a;
}

function maxBigint(a: bigint, b: bigint): bigint {
  if (b > a) return b;
  return a;
}
