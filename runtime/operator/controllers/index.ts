import type { Controller } from '../controller.ts';
import type { ControllerDeps } from '../main.ts';
import { validationController } from './validation.ts';

/** The controllers `kafka-backup operator` runs: one per kind of crds/. */
export function defaultControllers(deps: ControllerDeps): readonly Controller[] {
  return [validationController(deps)];
}
