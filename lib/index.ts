export * from './compression.ts';
export * from './encryption.ts';
export * from './kafka-cluster.ts';
export * from './operator.ts';
export * from './resource.ts';
export * from './schedule.ts';
export * from './secret-reference.ts';
export * from './storage.ts';
