/**
 * The API of kafka.oso.sh/v1alpha1, written in TypeScript and rendered to crds/*.yaml by
 * scripts/gen-crds.ts.
 *
 * Why TypeScript rather than hand-written YAML: kafkaCluster, storage, secret references, schedule
 * fields, conditions and the immutability rule appear in several of the five CRDs. Written once here
 * they cannot drift apart, every field must get a description (the builders take it first), and
 * the one-shot immutability rule is generated from the spec's field list. crds/ stays the
 * published source of truth: test/unit/api/crds-fresh.test.ts fails when it differs from this.
 */
import { customResourceDefinition, type KindDefinition } from './crd.ts';
import { kafkaBackup } from './kinds/backup.ts';
import { kafkaOffsetReset, kafkaOffsetRollback } from './kinds/offsets.ts';
import { kafkaRestore } from './kinds/restore.ts';
import { kafkaBackupValidation } from './kinds/validation.ts';

export { CATEGORY, GROUP, VERSION } from './crd.ts';
export { RERUN_ANNOTATION } from './shared.ts';

export const KINDS: readonly KindDefinition[] = [
  kafkaBackup,
  kafkaRestore,
  kafkaOffsetReset,
  kafkaOffsetRollback,
  kafkaBackupValidation,
];

/** File name of a kind's CRD under crds/. */
export function crdFileName(kind: KindDefinition): string {
  return `${kind.plural}.kafka.oso.sh.yaml`;
}

export function allCrds(): { file: string; crd: Record<string, unknown> }[] {
  return KINDS.map((kind) => ({ file: crdFileName(kind), crd: customResourceDefinition(kind) }));
}
