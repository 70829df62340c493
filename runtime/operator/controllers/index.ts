import type { Controller } from '../controller.ts';
import type { ControllerDeps } from '../main.ts';

/** The controllers `kafka-backup operator` runs: one per kind of crds/. */
export function defaultControllers(_deps: ControllerDeps): readonly Controller[] {
  return [];
}
