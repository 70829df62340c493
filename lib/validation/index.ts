import { CelError, evaluateCel, parseCel, Timestamp } from './cel.ts';
import { loadCrds } from './crds.ts';
import {
  applyDefaults,
  type SchemaNode,
  type ValidationRule,
  type Violation,
  validateSchema,
} from './schema.ts';

export { CRDS_DIR, type CrdInfo, crdFiles, loadCrds } from './crds.ts';
export type { SchemaNode, ValidationRule, Violation } from './schema.ts';

/**
 * Validates a spec of one of the five kinds with the schema and CEL rules of its CRD in `crds/`,
 * after applying the CRD's defaults, exactly as the API server does on create. Each violation has
 * the API server's field path (`spec.storage.s3.bucket`) and message.
 */
export function validateSpec(kind: string, spec: unknown): Violation[] {
  return validateManifest({
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind,
    metadata: { name: 'synth-check' },
    spec,
  });
}

/** Validates a whole object (apiVersion, kind, metadata, spec) of one of the five kinds. */
export function validateManifest(manifest: {
  kind: string;
  spec?: unknown;
  [key: string]: unknown;
}): Violation[] {
  const crd = loadCrds().get(manifest.kind);
  if (!crd) throw new Error(`unknown kind ${manifest.kind}: not one of ${[...loadCrds().keys()].join(', ')}`);
  const root = crd.schema;
  const specSchema = root.properties?.spec;
  if (!specSchema) throw new Error(`${crd.file}: the schema has no spec`);
  if (manifest.spec === undefined) {
    return root.required?.includes('spec') ? [{ field: 'spec', message: 'Required value' }] : [];
  }
  const spec = applyDefaults(structuredClone(manifest.spec), specSchema);
  // Like the API server, skip CEL rules after a wrong type, an unsupported enum value or a missing
  // required field: the rules could not evaluate meaningfully.
  const structural = validateSchema(spec, specSchema, 'spec', () => true);
  const blocking = (v: Violation) =>
    v.message.includes(' in body must be of type ') ||
    v.message.startsWith('Unsupported value') ||
    v.message === 'Required value';
  if (structural.some(blocking)) {
    return [...structural, RULES_NOT_CHECKED];
  }
  const violations = validateSchema(spec, specSchema, 'spec', evaluateRule);
  // Rules on the whole object (metadata is validated by the API server itself, not by the CRD).
  const self = { ...manifest, spec };
  for (const rule of root['x-kubernetes-validations'] ?? []) {
    const ok = evaluateRule(rule, self, root);
    if (ok === true) continue;
    violations.push({
      field: rule.fieldPath ? rule.fieldPath.replace(/^\./, '') : '<root>',
      message: `Invalid value: ${typeof ok === 'string' ? ok : rule.message}`,
    });
  }
  return violations;
}

/** What kube-apiserver adds when it skipped CEL rules because of the errors above. */
const RULES_NOT_CHECKED: Violation = {
  field: '<nil>',
  message:
    'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
};

const parsed = new Map<string, ReturnType<typeof parseCel>>();

/** Parses a rule once; throws CelError for syntax outside the supported subset. */
export function compileRule(rule: string): ReturnType<typeof parseCel> {
  let tree = parsed.get(rule);
  if (!tree) {
    tree = parseCel(rule);
    parsed.set(rule, tree);
  }
  return tree;
}

/** Whether a rule compares with the stored object: such transition rules do not run on create. */
export function isTransitionRule(rule: ValidationRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}

function evaluateRule(rule: ValidationRule, self: unknown, schema: SchemaNode): boolean | string {
  if (isTransitionRule(rule)) return true;
  try {
    const result = evaluateCel(compileRule(rule.rule), { self: toCel(self, schema) });
    if (typeof result !== 'boolean') return `rule did not evaluate to a bool: ${rule.rule}`;
    return result;
  } catch (e) {
    if (e instanceof CelError) return `${e.message} evaluating rule: ${rule.rule}`;
    throw e;
  }
}

/** Converts JSON to CEL values the way the API server does: `format: date-time` strings become timestamps. */
function toCel(value: unknown, schema: SchemaNode | undefined): unknown {
  if (!schema) return value;
  if (typeof value === 'string' && schema.format === 'date-time') return new Timestamp(Date.parse(value));
  if (Array.isArray(value)) return value.map((item) => toCel(item, schema.items));
  if (typeof value === 'object' && value !== null) {
    const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, toCel(v, schema.properties?.[k] ?? extra)]),
    );
  }
  return value;
}

/**
 * Validates one field's value with its schema and CEL rules in a kind's CRD, e.g.
 * `validateField('KafkaBackup', 'spec.schedule', '0 0 * * * * *')`. Used by value objects that
 * must accept exactly what the API server accepts.
 */
export function validateField(kind: string, path: string, value: unknown): Violation[] {
  const crd = loadCrds().get(kind);
  if (!crd) throw new Error(`unknown kind ${kind}`);
  let node: SchemaNode | undefined = crd.schema;
  for (const part of path.split('.')) node = node?.properties?.[part];
  if (!node) throw new Error(`${kind} has no field ${path}`);
  return validateSchema(value, node, path, evaluateRule);
}

/** The message of a violation without the API server's `Invalid value: "string": ` preamble. */
export function plainMessage(violation: Violation): string {
  return violation.message.replace(/^Invalid value: (?:"[^"]*"|\S+): /, '');
}
