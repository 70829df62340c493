/**
 * A validator for the subset of OpenAPI v3 that structural CRD schemas use, reporting each problem
 * with the field path and message wording of kube-apiserver, so a spec refused at synth time reads
 * the same as when the API server refuses it.
 */

/** One problem in a spec: the field path (e.g. `spec.storage.s3.bucket`) and the API server's message. */
export interface Violation {
  readonly field: string;
  readonly message: string;
}

/** The parts of a structural schema node that the validator reads. */
export interface SchemaNode {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: boolean;
  readonly exclusiveMaximum?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly nullable?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-validations'?: readonly ValidationRule[];
}

/** A CEL rule as written in the CRD. */
export interface ValidationRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fieldPath?: string;
  readonly reason?:
    | 'FieldValueInvalid'
    | 'FieldValueForbidden'
    | 'FieldValueRequired'
    | 'FieldValueDuplicate';
  readonly optionalOldSelf?: boolean;
}

/** Evaluates one CEL rule on a value (described by `schema`); a string is an evaluation error. */
export type RuleEvaluator = (rule: ValidationRule, self: unknown, schema: SchemaNode) => boolean | string;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Applies schema defaults in place, the way the API server does before validating: a missing
 * field with a `default` gets that default (recursively defaulted itself).
 */
export function applyDefaults(value: unknown, schema: SchemaNode): unknown {
  if (isObject(value)) {
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      if (value[name] === undefined && child.default !== undefined)
        value[name] = structuredClone(child.default);
      if (value[name] !== undefined) value[name] = applyDefaults(value[name], child);
    }
    const extra = schema.additionalProperties;
    if (typeof extra === 'object') {
      for (const key of Object.keys(value)) value[key] = applyDefaults(value[key], extra);
    }
  } else if (Array.isArray(value) && schema.items) {
    return value.map((item) => applyDefaults(item, schema.items as SchemaNode));
  }
  return value;
}

/** Validates a value against a schema node; rules that need CEL go through `evaluate`. */
export function validateSchema(
  value: unknown,
  schema: SchemaNode,
  path: string,
  evaluate: RuleEvaluator,
): Violation[] {
  const out: Violation[] = [];
  walk(value, schema, { path, celPath: path }, evaluate, out);
  return out;
}

/**
 * Where a value sits. Schema errors name map entries with dots (`spec.repartitioning.orders`),
 * CEL errors with brackets (`spec.topicMapping[orders]`), as kube-apiserver does.
 */
interface Location {
  readonly path: string;
  readonly celPath: string;
}

function walk(
  value: unknown,
  schema: SchemaNode,
  at: Location,
  evaluate: RuleEvaluator,
  out: Violation[],
): void {
  const path = at.path;
  if (value === null) {
    if (!schema.nullable)
      out.push({
        field: path,
        message: `Invalid value: "null": ${path} in body must be of type ${schema.type ?? 'object'}: "null"`,
      });
    return;
  }
  if (!typeMatches(value, schema)) {
    out.push({
      field: path,
      message: `Invalid value: "${typeName(value)}": ${path} in body must be of type ${schema.type}: "${typeName(value)}"`,
    });
    return;
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    out.push({
      field: path,
      message: `Unsupported value: ${render(value)}: supported values: ${schema.enum.map((e) => `"${String(e)}"`).join(', ')}`,
    });
  }
  if (typeof value === 'number') checkNumber(value, schema, path, out);
  if (typeof value === 'string') checkString(value, schema, path, out);
  if (Array.isArray(value)) checkArray(value, schema, at, evaluate, out);
  if (isObject(value)) checkObject(value, schema, at, evaluate, out);
  checkRules(value, schema, at.celPath, evaluate, out);
}

function checkNumber(value: number, schema: SchemaNode, path: string, out: Violation[]): void {
  if (schema.minimum !== undefined) {
    const bad = schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum;
    if (bad) {
      const op = schema.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      out.push({
        field: path,
        message: `Invalid value: ${value}: ${path} in body should be ${op} ${schema.minimum}`,
      });
    }
  }
  if (schema.maximum !== undefined) {
    const bad = schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum;
    if (bad) {
      const op = schema.exclusiveMaximum ? 'less than' : 'less than or equal to';
      out.push({
        field: path,
        message: `Invalid value: ${value}: ${path} in body should be ${op} ${schema.maximum}`,
      });
    }
  }
}

function checkString(value: string, schema: SchemaNode, path: string, out: Violation[]): void {
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    out.push({
      field: path,
      message: `Invalid value: ${render(value)}: ${path} in body should be at least ${schema.minLength} chars long`,
    });
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    out.push({ field: path, message: `Too long: may not be more than ${schema.maxLength} bytes` });
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
    out.push({
      field: path,
      message: `Invalid value: ${render(value)}: ${path} in body should match '${schema.pattern}'`,
    });
  }
  if (schema.format !== undefined && !formatMatches(value, schema.format)) {
    out.push({
      field: path,
      message: `Invalid value: ${render(value)}: ${path} in body must be of type ${schema.format}: ${render(value)}`,
    });
  }
}

function checkArray(
  value: unknown[],
  schema: SchemaNode,
  at: Location,
  evaluate: RuleEvaluator,
  out: Violation[],
): void {
  const path = at.path;
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    out.push({
      field: path,
      message: `Invalid value: ${value.length}: ${path} in body should have at least ${schema.minItems} items`,
    });
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    out.push({
      field: path,
      message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
    });
  }
  if (schema['x-kubernetes-list-type'] === 'set') {
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const key = JSON.stringify(item);
      if (seen.has(key)) out.push({ field: `${path}[${i}]`, message: `Duplicate value: ${render(item)}` });
      seen.add(key);
    });
  }
  if (schema.items) {
    const items = schema.items;
    for (const [i, item] of value.entries()) {
      walk(item, items, { path: `${path}[${i}]`, celPath: `${at.celPath}[${i}]` }, evaluate, out);
    }
  }
}

function checkObject(
  value: Record<string, unknown>,
  schema: SchemaNode,
  at: Location,
  evaluate: RuleEvaluator,
  out: Violation[],
): void {
  const path = at.path;
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) out.push({ field: `${path}.${name}`, message: 'Required value' });
  }
  const count = Object.keys(value).length;
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    out.push({
      field: path,
      message: `Invalid value: ${count}: ${path} in body should have at least ${schema.minProperties} properties`,
    });
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    out.push({ field: path, message: `Too many: ${count}: must have at most ${schema.maxProperties} items` });
  }
  for (const [name, child] of Object.entries(value)) {
    if (child === undefined) continue;
    const childPath = `${path}.${name}`;
    const property = schema.properties?.[name];
    if (property) {
      walk(child, property, { path: childPath, celPath: `${at.celPath}.${name}` }, evaluate, out);
    } else if (typeof schema.additionalProperties === 'object') {
      walk(
        child,
        schema.additionalProperties,
        { path: childPath, celPath: `${at.celPath}[${name}]` },
        evaluate,
        out,
      );
    } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
      // kubectl's strict field validation (the default) refuses unknown fields instead of pruning them.
      out.push({ field: childPath, message: `unknown field "${childPath}"` });
    }
  }
}

function checkRules(
  value: unknown,
  schema: SchemaNode,
  path: string,
  evaluate: RuleEvaluator,
  out: Violation[],
): void {
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const ok = evaluate(rule, value, schema);
    if (ok === true) continue;
    const field = rule.fieldPath ? `${path}${rule.fieldPath}` : path;
    const text = typeof ok === 'string' ? ok : (rule.message ?? `failed rule: ${rule.rule}`);
    const message =
      rule.reason === 'FieldValueRequired'
        ? `Required value: ${text}`
        : rule.reason === 'FieldValueForbidden'
          ? `Forbidden: ${text}`
          : rule.reason === 'FieldValueDuplicate'
            ? `Duplicate value: ${text}`
            : `Invalid value: ${celValue(value)}${text}`;
    out.push({ field, message });
  }
}

/** How kube-apiserver shows the value in a CEL error: scalars as values, objects and lists not at all. */
export function celValue(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)}: `;
  if (typeof value === 'number' || typeof value === 'boolean') return `${value}: `;
  return '';
}

function typeMatches(value: unknown, schema: SchemaNode): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof value === 'string' || Number.isInteger(value);
  switch (schema.type) {
    case undefined:
      return true;
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function formatMatches(value: string, format: string): boolean {
  switch (format) {
    case 'date-time':
      return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));
    case 'uri':
      return URL.canParse(value);
    default:
      return true; // formats the API server does not enforce
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function render(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value as Json);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
