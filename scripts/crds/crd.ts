/** Assembles one CustomResourceDefinition from a kind's spec and status schemas. */

import { object, type Rule, type Schema } from './schema.ts';
import { RERUN_ANNOTATION } from './shared.ts';

export const GROUP = 'kafka.oso.sh';
export const VERSION = 'v1alpha1';
/**
 * `kubectl get kafka-backup` lists all five kinds. Not `kafkabackup`: a category named like a
 * resource's singular shadows it in kubectl, and `kubectl get kafkabackup my-backup` (from the
 * seed's docs) would then query all five kinds.
 */
export const CATEGORY = 'kafka-backup';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

export interface KindDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  /** What the resource is, for `kubectl explain <kind>`. */
  readonly description: string;
  readonly spec: Schema;
  readonly status: Schema;
  readonly printerColumns: readonly PrinterColumn[];
  /** Whole-object rules (e.g. immutability once started), which need both spec and status. */
  readonly rules?: readonly Rule[];
}

export const READY_COLUMN: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Status of the Ready condition.',
};

export const PHASE_COLUMN: PrinterColumn = {
  name: 'Phase',
  type: 'string',
  jsonPath: '.status.phase',
  description: 'Summary of the current state.',
};

export const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};

export function customResourceDefinition(def: KindDefinition): Record<string, unknown> {
  const singular = def.kind.toLowerCase();
  const root: Schema = object(
    `${def.description} Annotate with ${RERUN_ANNOTATION}=<any new value> to request a new run with the same spec.`,
    {
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
      },
      // The API server owns metadata's schema; only `type` may be given here.
      metadata: { type: 'object' } as Schema,
      spec: def.spec,
      status: def.status,
    },
    { required: ['spec'], ...(def.rules?.length ? { rules: def.rules } : {}) },
  );
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'kafka-backup' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular,
        shortNames: [...def.shortNames],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: root },
        },
      ],
    },
  };
}

/**
 * The whole-object rule that freezes a one-shot spec once a run has started (status.startTime is
 * set by the operator right before it acts). Before that, the spec may be edited, e.g. while a run
 * waits for approval. `approval.approved` stays mutable so a waiting run can be approved. The rule
 * compares field by field (generated from the schema) because CEL cannot drop one key from an
 * object before comparing.
 */
export function immutableOnceStarted(spec: Schema, kindLabel: string, guard?: string): Rule {
  const props = Object.keys(spec.properties ?? {}).sort();
  const parts: string[] = [];
  for (const name of props) {
    if (name === 'approval') {
      parts.push(sameOptional('self.spec.approval', 'oldSelf.spec.approval', 'policy'));
      continue;
    }
    parts.push(sameOptional('self.spec', 'oldSelf.spec', name));
  }
  const notStarted = '!has(oldSelf.status) || !has(oldSelf.status.startTime)';
  const unchanged = parts.join(' && ');
  return {
    rule: `${guard ? `${guard} || ` : ''}${notStarted} || (${unchanged})`,
    fieldPath: '.spec',
    message: `spec is immutable once the ${kindLabel} has started (status.startTime is set); only spec.approval.approved may change. To run it again unchanged, set the annotation ${RERUN_ANNOTATION} to a new value; to run something different, create a new ${kindLabel}`,
  };
}

function sameOptional(self: string, old: string, field: string): string {
  // `approval` itself may be absent on either side; absent and present-with-defaults differ only
  // in the policy, which is what matters.
  if (self.endsWith('.approval')) {
    const s = `(has(self.spec.approval) && has(self.spec.approval.policy) ? self.spec.approval.policy : 'Automatic')`;
    const o = `(has(oldSelf.spec.approval) && has(oldSelf.spec.approval.policy) ? oldSelf.spec.approval.policy : 'Automatic')`;
    return `${s} == ${o}`;
  }
  return `(has(${self}.${field}) ? (has(${old}.${field}) && ${self}.${field} == ${old}.${field}) : !has(${old}.${field}))`;
}
