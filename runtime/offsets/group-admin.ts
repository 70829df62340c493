import type { CommittedOffset } from './group-offsets.ts';

/**
 * What offset management needs from a cluster: a narrow port so planning, snapshots and rollback are
 * tested against real Kafka through one adapter and stay free of the client library.
 */
export interface ConsumerGroupAdmin {
  /** `kafka://host:port,...`, without credentials. */
  readonly description: string;
  listGroups(): Promise<string[]>;
  /** State and members of each group; a group that does not exist is reported with state `Dead`. */
  describeGroups(groups: readonly string[]): Promise<Map<string, GroupDescription>>;
  /** The group's committed offsets (next offset to read), for every partition it has one. */
  committedOffsets(group: string): Promise<CommittedOffset[]>;
  /** Commits offsets for a group with no members; any partition-level error fails the whole call. */
  commitOffsets(group: string, offsets: readonly CommittedOffset[]): Promise<void>;
  /** Removes the group's committed offsets on these partitions. */
  deleteOffsets(group: string, partitions: readonly { topic: string; partition: number }[]): Promise<void>;
  /** Partition counts of existing topics; missing topics are absent from the map. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /** Log-start offset and high watermark, keyed by tpKey(). */
  logOffsets(partitions: readonly { topic: string; partition: number }[]): Promise<Map<string, LogOffsets>>;
  /** Offset of the first record with timestamp >= `timestamp`, or -1 when none is, keyed by tpKey(). */
  offsetsForTimestamp(
    partitions: readonly { topic: string; partition: number }[],
    timestamp: bigint,
  ): Promise<Map<string, bigint>>;
  close(): Promise<void>;
}

export interface LogOffsets {
  readonly earliest: bigint;
  readonly latest: bigint;
}

export interface GroupMemberInfo {
  readonly memberId: string;
  readonly clientId: string;
  readonly host: string;
  readonly groupInstanceId?: string;
}

export interface GroupDescription {
  readonly group: string;
  /** Kafka's state name: Empty, Stable, PreparingRebalance, CompletingRebalance, Dead, ... */
  readonly state: string;
  readonly members: readonly GroupMemberInfo[];
}

/** Thrown before any commit when a group still has members: Kafka would reject the commit. */
export class ActiveGroupError extends Error {
  readonly groups: readonly GroupDescription[];
  constructor(groups: readonly GroupDescription[]) {
    const described = groups
      .map(
        (g) =>
          `${g.group} (${g.state}): ${g.members
            .map(
              (m) =>
                `${m.memberId} [client ${m.clientId} on ${m.host}${m.groupInstanceId ? `, instance ${m.groupInstanceId}` : ''}]`,
            )
            .join(', ')}`,
      )
      .join('; ');
    super(
      `refusing to change offsets: ${groups.length === 1 ? 'a consumer group has' : 'consumer groups have'} ` +
        `active members, and Kafka only accepts offset commits for empty groups. Stop these consumers and retry: ${described}`,
    );
    this.name = 'ActiveGroupError';
    this.groups = groups;
  }
}

/** Describes the groups and throws ActiveGroupError naming every member of every non-empty group. */
export async function assertGroupsInactive(
  admin: ConsumerGroupAdmin,
  groups: readonly string[],
): Promise<void> {
  if (groups.length === 0) return;
  const described = await admin.describeGroups(groups);
  const active = [...described.values()].filter((g) => g.members.length > 0);
  if (active.length > 0) throw new ActiveGroupError(active);
}
