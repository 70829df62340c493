/** Reads crds/*.yaml and walks their schemas, for the unit tests of the API. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const REPO = resolve(import.meta.dirname, '..', '..', '..');
export const CRD_DIR = join(REPO, 'crds');

export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  enum?: unknown[];
  default?: unknown;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: {
    rule: string;
    message?: string;
    messageExpression?: string;
    fieldPath?: string;
  }[];
  [key: string]: unknown;
}

export interface Crd {
  file: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns: { name: string; type: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

export function loadCrds(): Crd[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, ...(parse(readFileSync(join(CRD_DIR, file), 'utf8')) as Omit<Crd, 'file'>) }));
}

export function rootSchema(crd: Crd): SchemaNode {
  const version = crd.spec.versions[0];
  if (!version) throw new Error(`${crd.file} has no version`);
  return version.schema.openAPIV3Schema;
}

/** Every schema node with its path, e.g. `spec.storage.s3.bucket`, `spec.topics[]`, `spec.topicMapping{}`. */
export function* walk(node: SchemaNode, path = ''): Generator<[string, SchemaNode]> {
  yield [path, node];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    yield* walk(child, path ? `${path}.${name}` : name);
  }
  if (node.items) yield* walk(node.items, `${path}[]`);
  if (typeof node.additionalProperties === 'object') yield* walk(node.additionalProperties, `${path}{}`);
}

/** Schema node at a dotted path (`[]` steps into items, `{}` into map values), or undefined. */
export function at(root: SchemaNode, path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const step of path.split('.')) {
    if (!node) return undefined;
    const name = step.replace(/(\[\]|\{\})+$/, '');
    node = node.properties?.[name];
    for (const suffix of step.slice(name.length).match(/\[\]|\{\}/g) ?? []) {
      if (!node) return undefined;
      node = suffix === '[]' ? node.items : (node.additionalProperties as SchemaNode | undefined);
    }
  }
  return node;
}
