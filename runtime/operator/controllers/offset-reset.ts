/**
 * KafkaOffsetReset: resolves where the mapping and snapshots live (from-mapping: the KafkaRestore of
 * offsetMappingRef.restoreName, or the latest completed one, and its backup), validates the spec,
 * waits for approval with policy Manual, then runs the offset reset use case.
 */
import { resetOffsetsWith, resetRequestOf } from '../../app/offsets.ts';
import { productionPorts } from '../../app/ports.ts';
import { offsetResetConfigFromSpec } from '../../config/operations.ts';
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
import { type ResetSpec, resolveResetTarget } from './references.ts';

interface ResetJson {
  readonly status: string;
  readonly snapshotId: string | null;
  readonly snapshotKey?: string | null;
  readonly groups: readonly { group: string; status: string; error?: string }[];
  readonly mismatches: readonly unknown[];
}

/** Status of a finished reset (pure); `continueOnError` decides between PartiallyCompleted and Failed. */
export function resetOutcome(result: CommandResult, spec: ResetSpec, durationMs: number): Outcome {
  const json = result.json as ResetJson;
  const groups = json.groups ?? [];
  const ok = groups.filter((g) => g.status !== 'failed');
  const failed = groups.filter((g) => g.status === 'failed');
  const status = {
    groupsTotal: spec.consumerGroups?.length ?? groups.length,
    groupsReset: ok.length,
    groupsFailed: failed.length,
    duration: `${(durationMs / 1000).toFixed(2)}s`,
    ...(json.snapshotId ? { snapshotId: json.snapshotId } : {}),
    ...(json.snapshotKey ? { snapshotPath: json.snapshotKey } : {}),
    groupResults: groups.map((g) => ({
      groupId: g.group,
      success: g.status !== 'failed',
      ...(g.error ? { error: g.error } : {}),
      message: g.status === 'unchanged' ? 'already at target (no-op)' : g.status,
    })),
  };
  if (json.status === 'planned') {
    return {
      phase: 'Completed',
      health: 'ready',
      reason: 'DryRun',
      message: `dry run: ${firstLines(result.text)}`,
      status,
    };
  }
  if (!result.failure) {
    const message = `reset ${ok.length} group(s)${json.snapshotId ? `; snapshot before the reset: ${json.snapshotId}` : ''}`;
    return { phase: 'Completed', health: 'ready', reason: 'ResetCompleted', message, status };
  }
  const partial = spec.continueOnError === true && ok.length > 0 && failed.length > 0;
  const message = `${failed.length} group(s) failed${json.mismatches?.length ? `, ${json.mismatches.length} offset(s) differ after committing` : ''}: ${failed.map((g) => `${g.group}: ${g.error ?? 'failed'}`).join('; ')}`;
  return {
    phase: partial ? 'PartiallyCompleted' : 'Failed',
    health: 'failed',
    reason: partial
      ? 'PartiallyCompleted'
      : result.failure === 'commit-failed'
        ? 'KafkaRejected'
        : 'Conflict',
    message,
    status,
  };
}

function firstLines(text: string): string {
  return text.split('\n').slice(0, 20).join('\n');
}

export function resetKind(log: Logger): OneShotKind<{ result: CommandResult; durationMs: number }> {
  return {
    kind: KAFKA_KINDS.KafkaOffsetReset,
    noun: 'OffsetReset',
    outcome: ({ result, durationMs }, object) =>
      resetOutcome(result, (object.spec ?? {}) as ResetSpec, durationMs),
    async prepare(object, context) {
      const namespace = object.metadata.namespace ?? '';
      const spec = (object.spec ?? {}) as ResetSpec;
      const target = await resolveResetTarget(spec, namespace, context);
      const { offsetMappingRef: _mapping, snapshotRef: _snapshot, ...rest } = spec;
      const concrete = {
        ...rest,
        ...(target.snapshotId ? { snapshotRef: { name: target.snapshotId, storage: target.storage } } : {}),
        ...(target.storage
          ? {
              backupRef: {
                storage: target.storage,
                ...(target.backupId ? { backupId: target.backupId } : {}),
              },
            }
          : {}),
      };
      const runLog = log.child({ kind: 'KafkaOffsetReset', namespace, name: object.metadata.name });
      const client = context.client;
      const ports = {
        ...productionPorts({ log: runLog, secrets: apiSecrets(client, target.secretsNamespace) }),
        secrets: apiSecrets(client, namespace),
      };
      // Parsed now: a bad spec or a missing Secret shows before anything is approved or run.
      const config = await offsetResetConfigFromSpec(concrete, ports.secrets, {
        source: `KafkaOffsetReset ${namespace}/${object.metadata.name}`,
      });
      const request = {
        ...resetRequestOf(config),
        ...(target.restore?.restoreId ? { restoreId: target.restore.restoreId } : {}),
      };
      const groups = spec.consumerGroups ?? [];
      const summary =
        `reset ${groups.length} consumer group(s) (${groups.join(', ')}) with ${spec.resetStrategy}` +
        (target.restore ? ` through the offset mapping of KafkaRestore ${target.restore.restore.name}` : '') +
        (spec.snapshotBeforeReset === false ? ', without a snapshot' : ', after a snapshot of their offsets');
      return {
        status: { groupsTotal: groups.length },
        summary,
        work: () => timed(() => resetOffsetsWith(request, ports)),
        request: {
          kind: 'offset-reset',
          owner: ownerOf(object),
          spec: concrete,
          secrets: secretsOf(concrete, namespace, target.secretsNamespace),
          ...(target.restore?.restoreId ? { restoreId: target.restore.restoreId } : {}),
          ...(typeof spec.activeDeadlineSeconds === 'number'
            ? { activeDeadlineSeconds: spec.activeDeadlineSeconds }
            : {}),
        },
      };
    },
  };
}

export function offsetResetController(deps: ControllerDeps): Controller {
  return oneShotController(resetKind(deps.log), {
    runner: deps.runner,
    metrics: runMetricsOf(deps.metrics.registry),
  });
}
