import type { ConsumerGroupAdmin, GroupDescription } from '../kafka/port.ts';

/** The port lives with the other Kafka ports (runtime/kafka/port.ts); re-exported for offsets code. */
export type { ConsumerGroupAdmin, GroupDescription, GroupMemberInfo, LogOffsets } from '../kafka/port.ts';

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
