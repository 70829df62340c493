import { liveRunMetricsOf } from '../../metrics/live-run-metrics.ts';
import { runMetricsOf } from '../../metrics/run-metrics.ts';
import type { Controller } from '../controller.ts';
import type { ControllerDeps } from '../main.ts';
import { backupController } from './backup.ts';
import { offsetResetController } from './offset-reset.ts';
import { offsetRollbackController } from './offset-rollback.ts';
import { restoreController } from './restore.ts';
import { validationController } from './validation.ts';

/** The controllers `kafka-backup operator` runs: one per kind of crds/. */
export function defaultControllers(deps: ControllerDeps): readonly Controller[] {
  const metrics = runMetricsOf(deps.metrics.registry);
  const live = liveRunMetricsOf(deps.metrics.registry);
  return [
    backupController({ runner: deps.runner, metrics, live }),
    restoreController(deps),
    offsetResetController(deps),
    offsetRollbackController(deps),
    validationController(deps),
  ];
}
