import type { OffsetRange } from '../offsets/offset-mapping.ts';
import { MappingBuilder, rangesFromJson, rangesToJson, type StoredRange } from './offset-map.ts';

/**
 * Where one restore unit stands. The fields change together, in one synchronous step after every
 * produced chunk, so a checkpoint taken at any moment is a consistent cut: the mapping holds exactly
 * the source offsets before `nextOffset` (of the current source) and the target offsets before each
 * `targets` end.
 */
export interface UnitState {
  sourceIndex: number;
  /** Next source offset to consider in sources[sourceIndex]; undefined: from its beginning. */
  nextOffset: bigint | undefined;
  roundRobin: number;
  /** Expected end offset of each target partition written by this unit. */
  targets: Map<number, bigint>;
  mappings: Map<string, UnitMapping>;
  records: number;
  done: boolean;
}

export interface UnitMapping {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly targetPartition: number;
  readonly b: MappingBuilder;
}

export interface CheckpointDocument {
  version: 1;
  restoreId: string;
  backupId: string;
  status: 'running' | 'complete';
  updatedAt: string;
  units: Record<string, StoredUnit>;
}

export interface StoredUnit {
  sourceIndex: number;
  nextOffset: string | null;
  roundRobin: number;
  targets: Record<string, string>;
  mappings: {
    sourceTopic: string;
    sourcePartition: number;
    targetPartition: number;
    ranges: StoredRange[];
  }[];
  records: number;
  done: boolean;
}

export function mappingKey(topic: string, partition: number, target: number): string {
  return `${topic}/${partition}>${target}`;
}

export function newUnitState(): UnitState {
  return {
    sourceIndex: 0,
    nextOffset: undefined,
    roundRobin: 0,
    targets: new Map(),
    mappings: new Map(),
    records: 0,
    done: false,
  };
}

export function storeUnit(s: UnitState): StoredUnit {
  return {
    sourceIndex: s.sourceIndex,
    nextOffset: s.nextOffset === undefined ? null : s.nextOffset.toString(),
    roundRobin: s.roundRobin,
    targets: Object.fromEntries([...s.targets].map(([p, o]) => [String(p), o.toString()])),
    mappings: [...s.mappings.values()].map((m) => ({
      sourceTopic: m.sourceTopic,
      sourcePartition: m.sourcePartition,
      targetPartition: m.targetPartition,
      ranges: rangesToJson(m.b.ranges()),
    })),
    records: s.records,
    done: s.done,
  };
}

export interface LoadedUnit {
  readonly state: UnitState;
  /** What had to be cut back to make the stored state a consistent cut (empty when it already was). */
  readonly repairs: readonly string[];
}

/**
 * Reads a unit's stored state and makes it a consistent cut. Checkpoints written by versions before
 * 0.1.1 could be taken in the middle of a chunk: their mapping ran ahead of `nextOffset`, or one
 * target's end ahead of the source position, and every resume then failed ("offset mapping must
 * increase") or would have written a chunk twice. Both are repaired the same way: everything at or
 * beyond the source position is dropped from the mapping and each target end is set back to where the
 * first dropped record went. The dropped records are on the target, past the (repaired) end, so the
 * resume finds them there and maps them again without producing them - exactly as after a kill.
 *
 * `currentSource` names the unit's source partition at `sourceIndex` (undefined once all are done).
 */
export function loadUnit(
  saved: StoredUnit,
  currentSource: { readonly topic: string; readonly partition: number } | undefined,
): LoadedUnit {
  const nextOffset = saved.nextOffset === null ? undefined : BigInt(saved.nextOffset);
  const targets = new Map(Object.entries(saved.targets).map(([p, o]) => [Number(p), BigInt(o)]));
  const repairs: string[] = [];
  const mappings = new Map<string, UnitMapping>();
  for (const m of saved.mappings) {
    let ranges = rangesFromJson(m.ranges);
    const current =
      !saved.done &&
      currentSource !== undefined &&
      m.sourceTopic === currentSource.topic &&
      m.sourcePartition === currentSource.partition;
    if (current) {
      // The current source is read again from nextOffset (from its start when undefined).
      const cut = cutAtSource(ranges, nextOffset ?? -1n);
      if (cut.dropped) {
        const end = targets.get(m.targetPartition);
        if (end === undefined || cut.dropped.target < end) targets.set(m.targetPartition, cut.dropped.target);
        repairs.push(
          `${m.sourceTopic}/${m.sourcePartition}>${m.targetPartition}: mapping from source offset ` +
            `${cut.dropped.source} (target ${cut.dropped.target}) dropped; it is found again on the target`,
        );
        ranges = cut.kept;
      }
    }
    mappings.set(mappingKey(m.sourceTopic, m.sourcePartition, m.targetPartition), {
      sourceTopic: m.sourceTopic,
      sourcePartition: m.sourcePartition,
      targetPartition: m.targetPartition,
      b: new MappingBuilder(ranges),
    });
  }
  return {
    state: {
      sourceIndex: saved.sourceIndex,
      nextOffset,
      roundRobin: saved.roundRobin,
      targets,
      mappings,
      records: saved.records,
      done: saved.done,
    },
    repairs,
  };
}

/**
 * A statement of what is wrong when a stored unit still contradicts itself after loadUnit (a mapping
 * beyond its target end), or undefined.
 */
export function inconsistency(state: UnitState): string | undefined {
  for (const m of state.mappings.values()) {
    const last = m.b.ranges().at(-1);
    if (!last) continue;
    const end = state.targets.get(m.targetPartition);
    const lastTarget = last.target + BigInt(last.count) - 1n;
    if (end === undefined || lastTarget >= end) {
      return (
        `the mapping of ${m.sourceTopic}/${m.sourcePartition} reaches target offset ${lastTarget} of partition ` +
        `${m.targetPartition}, but the checkpoint's end of that partition is ${end ?? 'missing'}`
      );
    }
  }
  return undefined;
}

/** Splits ranges at source offset `from`: what maps offsets before it, and the first entry dropped. */
function cutAtSource(
  ranges: readonly OffsetRange[],
  from: bigint,
): { kept: OffsetRange[]; dropped?: { source: bigint; target: bigint } } {
  const kept: OffsetRange[] = [];
  for (const r of ranges) {
    if (r.source + BigInt(r.count) <= from) {
      kept.push(r);
      continue;
    }
    const k = r.source >= from ? 0n : from - r.source;
    if (k > 0n) kept.push({ source: r.source, target: r.target, count: Number(k) });
    return { kept, dropped: { source: r.source + k, target: r.target + k } };
  }
  return { kept };
}
