/**
 * Small builders for structural OpenAPI v3 schemas. Every builder takes a description first, so a
 * field without one cannot be written; defaults are echoed into the description because
 * `kubectl explain` shows descriptions but not defaults.
 */

/** One CEL rule (`x-kubernetes-validations`). The message says what is wrong and how to fix it. */
export interface Rule {
  readonly rule: string;
  readonly message: string;
  /** JSON path relative to the node the rule sits on, so the API server names the right field. */
  readonly fieldPath?: string;
  readonly reason?:
    | 'FieldValueInvalid'
    | 'FieldValueForbidden'
    | 'FieldValueRequired'
    | 'FieldValueDuplicate';
}

export interface Schema {
  type: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema;
  enum?: readonly (string | number)[];
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: Rule[];
}

interface Common {
  readonly rules?: readonly Rule[];
}

/** Adds "Defaults to X." unless the description already states the default. */
function withDefault(description: string, value: unknown): string {
  if (value === undefined || /defaults to/i.test(description)) return description;
  const shown = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return `${description} Defaults to ${shown}.`;
}

function finish<T extends Schema>(schema: T, opts: Common & { default?: unknown }): T {
  const out: Schema = { ...schema, description: withDefault(schema.description, opts.default) };
  if (opts.default !== undefined) out.default = opts.default;
  if (opts.rules?.length) out['x-kubernetes-validations'] = [...opts.rules];
  return out as T;
}

/** Strings used by CEL rules need a maxLength, otherwise the rule cost is unbounded. */
export interface StringOpts extends Common {
  readonly default?: string;
  readonly enum?: readonly string[];
  readonly format?: 'date-time' | 'uri' | 'duration';
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
}

export function string(description: string, opts: StringOpts = {}): Schema {
  const s: Schema = { type: 'string', description };
  if (opts.enum) s.enum = opts.enum;
  if (opts.format) s.format = opts.format;
  if (opts.minLength !== undefined) s.minLength = opts.minLength;
  // Enums bound the length already; everything else gets an explicit bound (CEL cost, etcd size).
  s.maxLength = opts.maxLength ?? (opts.enum ? Math.max(...opts.enum.map((v) => v.length)) : 253);
  if (opts.pattern) s.pattern = opts.pattern;
  return finish(s, opts);
}

export interface IntegerOpts extends Common {
  readonly default?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly number[];
  readonly format?: 'int32' | 'int64';
}

export function integer(description: string, opts: IntegerOpts = {}): Schema {
  const s: Schema = { type: 'integer', description, format: opts.format ?? 'int64' };
  if (opts.enum) s.enum = opts.enum;
  if (opts.minimum !== undefined) s.minimum = opts.minimum;
  if (opts.maximum !== undefined) s.maximum = opts.maximum;
  return finish(s, opts);
}

export function boolean(description: string, opts: Common & { default?: boolean } = {}): Schema {
  return finish({ type: 'boolean', description }, opts);
}

export interface ObjectOpts extends Common {
  readonly required?: readonly string[];
  readonly default?: Record<string, unknown>;
  readonly minProperties?: number;
}

export function object(
  description: string,
  properties: Record<string, Schema>,
  opts: ObjectOpts = {},
): Schema {
  const s: Schema = { type: 'object', description, properties };
  for (const name of opts.required ?? []) {
    if (!(name in properties)) throw new Error(`required property '${name}' is not defined`);
  }
  if (opts.required?.length) s.required = [...opts.required];
  if (opts.minProperties !== undefined) s.minProperties = opts.minProperties;
  return finish(s, opts);
}

export interface ArrayOpts extends Common {
  readonly default?: unknown[];
  readonly minItems?: number;
  readonly maxItems: number;
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly mapKeys?: string[];
}

export function array(description: string, items: Schema, opts: ArrayOpts): Schema {
  const s: Schema = { type: 'array', description, items };
  if (opts.minItems !== undefined) s.minItems = opts.minItems;
  s.maxItems = opts.maxItems;
  if (opts.listType) s['x-kubernetes-list-type'] = opts.listType;
  if (opts.mapKeys) s['x-kubernetes-list-map-keys'] = opts.mapKeys;
  return finish(s, opts);
}

export interface MapOpts extends Common {
  readonly default?: Record<string, unknown>;
  readonly maxProperties: number;
}

/** A map with string keys (`additionalProperties`), e.g. source topic -> target topic. */
export function map(description: string, values: Schema, opts: MapOpts): Schema {
  const s: Schema = { type: 'object', description, additionalProperties: values };
  s.maxProperties = opts.maxProperties;
  return finish(s, opts);
}

/** A copy of a schema with another description, for a shared type used in a different role. */
export function describe(schema: Schema, description: string): Schema {
  return { ...schema, description: withDefault(description, schema.default) };
}

/** A copy of an object schema with extra rules, for a shared type with role-specific checks. */
export function withRules(schema: Schema, rules: readonly Rule[]): Schema {
  return { ...schema, 'x-kubernetes-validations': [...(schema['x-kubernetes-validations'] ?? []), ...rules] };
}
