export * from './backup-schedule.ts';
export * from './backup-source.ts';
export {
  type ApprovalOptions,
  type CircuitBreakerOptions,
  type RateLimit,
  type RunOptions,
  referencedSecretNames,
} from './common.ts';
export * from './compression.ts';
export * from './encryption.ts';
export * from './gitops.ts';
export * from './kafka-cluster.ts';
export * from './offset-reset-plan.ts';
export * from './offset-rollback-plan.ts';
export * from './operator.ts';
export * from './resource.ts';
export * from './restore-plan.ts';
export * from './schedule.ts';
export type { SecretReference } from './secret-reference.ts';
export * from './storage.ts';
export {
  plainMessage,
  type Violation,
  validateField,
  validateManifest,
  validateSpec,
} from './validation/index.ts';
export * from './validation-plan.ts';
