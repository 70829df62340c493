/**
 * What a Job reports of a run's result: the fields the controllers read to write status, Events and
 * metrics (counts, ids, timestamps, outcomes), without the bulky per-partition and per-object detail,
 * so it fits a termination message. A unit test checks that each kind's status comes out the same
 * from the summary as from the full result.
 */
import type { BackupRunResult } from '../controllers/backup.ts';
import type { RestoreRun } from '../controllers/restore.ts';
import type { RunOutput } from '../controllers/validation-status.ts';
import type { RunKind } from './run-request.ts';
import type { TimedCommand } from './run-work.ts';

const firstLines = (text: string, n: number) => text.split('\n').slice(0, n).join('\n');
const lastLine = (text: string) => text.split('\n').slice(-1)[0] ?? '';

export function summarize(kind: RunKind, result: unknown): unknown {
  switch (kind) {
    case 'backup':
      return backupSummary(result as BackupRunResult);
    case 'restore':
      return restoreSummary(result as RestoreRun);
    case 'offset-reset':
    case 'offset-rollback': {
      const { result: command, durationMs } = result as TimedCommand;
      return {
        durationMs,
        result: {
          ...(command.failure ? { failure: command.failure } : {}),
          // A dry run's status quotes the first 20 lines.
          text: firstLines(command.text, 20),
          json: command.json,
        },
      } satisfies TimedCommand;
    }
    case 'validation':
      return validationSummary(result as RunOutput);
  }
}

function backupSummary(r: BackupRunResult): BackupRunResult {
  const { partitions: _partitions, topics: _topics, retention, ...rest } = r;
  let kept: BackupRunResult['retention'];
  if (retention && 'pruned' in retention) {
    const p = retention.pruned;
    kept = {
      pruned: {
        ...p,
        // Status reads how many runs were inspected and which were eligible.
        plan: {
          ...p.plan,
          decisions: p.plan.decisions.map(() => ({})),
          eligible: p.plan.eligible.map((e) => ({ runId: e.runId })),
        },
      } as unknown as typeof p,
    };
  } else kept = retention;
  return { ...rest, topics: [], partitions: [], ...(kept ? { retention: kept } : {}) };
}

function restoreSummary(r: RestoreRun): RestoreRun {
  const { partitions: _partitions, consumerGroups, rolledBack, ...rest } = r;
  const groupsJson = consumerGroups?.json as
    | { snapshotId?: unknown; snapshotKey?: unknown }
    | null
    | undefined;
  return {
    ...rest,
    partitions: [],
    plan: {
      ...r.plan,
      topics: r.plan.topics.map((t) => ({ ...t, source: [] })),
    },
    ...(consumerGroups
      ? {
          consumerGroups: {
            ...(consumerGroups.failure ? { failure: consumerGroups.failure } : {}),
            text: firstLines(consumerGroups.text, 1),
            json: {
              ...(groupsJson?.snapshotId !== undefined ? { snapshotId: groupsJson.snapshotId } : {}),
              ...(groupsJson?.snapshotKey !== undefined ? { snapshotKey: groupsJson.snapshotKey } : {}),
            },
          },
        }
      : {}),
    ...(rolledBack
      ? {
          rolledBack: {
            ...(rolledBack.failure ? { failure: rolledBack.failure } : {}),
            text: lastLine(rolledBack.text),
            json: null,
          },
        }
      : {}),
  };
}

function validationSummary(r: RunOutput): RunOutput {
  return {
    ...r,
    report: {
      ...r.report,
      // Status keeps up to 64 checks with their one-line summary; the details are in the stored report.
      checks: r.report.checks.slice(0, 64).map(({ details: _details, ...check }) => ({
        ...check,
        summary: check.summary.slice(0, 512),
      })),
    },
  };
}
