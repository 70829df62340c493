/**
 * The use cases the CLI and the operator share: one function per kind, from a spec object and
 * injected ports to a typed result. See README.md.
 */
export { backup } from './backup.ts';
export {
  type Classification,
  classify,
  type ErrorClass,
  EXIT,
  type FailureReason,
  UsageError,
} from './errors.ts';
export {
  type OffsetResetRequest,
  type OffsetRollbackRequest,
  offsetReset,
  offsetRollback,
  offsetSnapshot,
  resetOffsetsWith,
  resetRequestOf,
  rollbackOffsetsWith,
  showOffsetMapping,
} from './offsets.ts';
export {
  type AppPorts,
  type KafkaConnectOptions,
  type OpenStoreRequest,
  productionPorts,
  type RunControls,
  withStore,
} from './ports.ts';
export { type RestoreRunResult, restore } from './restore.ts';
export { retention } from './retention.ts';
export { type ValidationRun, validate, validateWith } from './validate.ts';
