/**
 * KafkaOffsetRollback: resolves `snapshotRef` (by snapshot id, or by the name of the KafkaRestore or
 * KafkaOffsetReset that took it, whose storage holds it), waits for approval with policy Manual, then
 * commits the snapshot's offsets back with the rollback use case and verifies them.
 */
import { offsetRollback } from '../../app/offsets.ts';
import { productionPorts } from '../../app/ports.ts';
import { offsetRollbackConfigFromSpec } from '../../config/operations.ts';
import type { Logger } from '../../log.ts';
import { runMetricsOf } from '../../metrics/run-metrics.ts';
import type { CommandResult } from '../../offsets/commands.ts';
import { apiSecrets } from '../api-secrets.ts';
import type { Controller } from '../controller.ts';
import type { ControllerDeps } from '../main.ts';
import { KAFKA_KINDS } from '../resource.ts';
import { ownerOf, secretsOf } from '../runs/run-request.ts';
import { timed } from '../runs/run-work.ts';
import { type OneShotKind, type Outcome, oneShotController } from './one-shot.ts';
import { resolveSnapshotRef, type SnapshotRefSpec } from './references.ts';

interface RollbackSpec {
  readonly snapshotRef?: SnapshotRefSpec;
  readonly consumerGroups?: readonly string[];
  readonly activeDeadlineSeconds?: number;
  readonly [field: string]: unknown;
}

interface RollbackJson {
  readonly status: string;
  readonly snapshotId: string;
  readonly groups: readonly { group: string; status: string; error?: string }[];
  readonly mismatches: readonly { group: string }[];
  readonly verified: boolean;
  readonly changes: readonly { group: string }[];
}

/** Status of a finished rollback (pure). */
export function rollbackOutcome(result: CommandResult, durationMs: number): Outcome {
  const json = result.json as RollbackJson;
  const groups = json.groups ?? [];
  const failed = groups.filter((g) => g.status === 'failed');
  const ok = groups.filter((g) => g.status !== 'failed');
  const mismatched = [...new Set((json.mismatches ?? []).map((m) => m.group))];
  const status = {
    duration: `${(durationMs / 1000).toFixed(2)}s`,
    groupsRolledBack: ok.length,
    groupsFailed: failed.length,
    verified: json.verified === true && mismatched.length === 0,
    ...(json.verified
      ? {
          verification: {
            allMatched: mismatched.length === 0,
            totalGroups: groups.length,
            matchedGroups: groups.length - mismatched.length,
            mismatchedGroups: mismatched,
          },
        }
      : {}),
    groupResults: groups.map((g) => ({
      groupId: g.group,
      success: g.status !== 'failed',
      ...(g.error ? { error: g.error } : {}),
      message: g.status === 'unchanged' ? 'already at the snapshot (no-op)' : g.status,
    })),
  };
  if (json.status === 'planned') {
    const message = `dry run: ${json.changes.length} group(s) would be rolled back to snapshot ${json.snapshotId}`;
    return { phase: 'Completed', health: 'ready', reason: 'DryRun', message, status };
  }
  if (!result.failure) {
    const message = `rolled ${ok.length} group(s) back to snapshot ${json.snapshotId}${json.verified ? ', verified' : ''}`;
    return { phase: 'Completed', health: 'ready', reason: 'RollbackCompleted', message, status };
  }
  const message =
    failed.length > 0
      ? `${failed.length} group(s) failed: ${failed.map((g) => `${g.group}: ${g.error ?? 'failed'}`).join('; ')}`
      : `offsets differ from snapshot ${json.snapshotId} after committing for ${mismatched.join(', ')}`;
  const partial = ok.length > 0 && failed.length > 0;
  return {
    phase: partial ? 'PartiallyCompleted' : 'Failed',
    health: 'failed',
    reason: result.failure === 'commit-failed' ? 'KafkaRejected' : 'VerificationFailed',
    message,
    status,
  };
}

export function rollbackKind(log: Logger): OneShotKind<{ result: CommandResult; durationMs: number }> {
  return {
    kind: KAFKA_KINDS.KafkaOffsetRollback,
    noun: 'OffsetRollback',
    outcome: ({ result, durationMs }) => rollbackOutcome(result, durationMs),
    async prepare(object, context) {
      const namespace = object.metadata.namespace ?? '';
      const spec = (object.spec ?? {}) as RollbackSpec;
      const snapshot = await resolveSnapshotRef(spec.snapshotRef ?? {}, namespace, context);
      const concrete = { ...spec, snapshotRef: { name: snapshot.snapshotId, storage: snapshot.storage } };
      const runLog = log.child({ kind: 'KafkaOffsetRollback', namespace, name: object.metadata.name });
      const ports = {
        ...productionPorts({ log: runLog, secrets: apiSecrets(context.client, snapshot.secretsNamespace) }),
        secrets: apiSecrets(context.client, namespace),
      };
      const source = { source: `KafkaOffsetRollback ${namespace}/${object.metadata.name}` };
      // Parsed now: a bad spec or a missing Secret shows before anything is approved or run.
      await offsetRollbackConfigFromSpec(concrete, ports.secrets, source);
      const groups = spec.consumerGroups ?? [];
      const summary = `roll ${groups.length > 0 ? groups.join(', ') : 'every group of the snapshot'} back to offset snapshot ${snapshot.snapshotId}`;
      return {
        status: {},
        summary,
        work: () => timed(() => offsetRollback(concrete, ports, source)),
        request: {
          kind: 'offset-rollback',
          owner: ownerOf(object),
          spec: concrete,
          secrets: secretsOf(concrete, namespace, snapshot.secretsNamespace),
          ...(typeof spec.activeDeadlineSeconds === 'number'
            ? { activeDeadlineSeconds: spec.activeDeadlineSeconds }
            : {}),
        },
      };
    },
  };
}

export function offsetRollbackController(deps: ControllerDeps): Controller {
  return oneShotController(rollbackKind(deps.log), {
    runner: deps.runner,
    metrics: runMetricsOf(deps.metrics.registry),
  });
}
