import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Yaml } from 'cdk8s';
import type { SchemaNode } from './schema.ts';

/** A CustomResourceDefinition of this package, as read from `crds/`. */
export interface CrdInfo {
  readonly kind: string;
  readonly plural: string;
  readonly group: string;
  readonly version: string;
  readonly file: string;
  /** The `openAPIV3Schema` of the served version. */
  readonly schema: SchemaNode;
}

/**
 * The package's `crds/` directory: the single source of truth of the API. Found relative to this
 * module both when run from source (lib/validation/) and when compiled (build/lib/validation/).
 */
export const CRDS_DIR = ['../../crds/', '../../../crds/']
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((dir) => existsSync(dir)) as string;

let cache: ReadonlyMap<string, CrdInfo> | undefined;

/** Every CRD in `crds/`, by kind. Read once; the schemas drive synth-time validation. */
export function loadCrds(): ReadonlyMap<string, CrdInfo> {
  if (cache) return cache;
  const crds = new Map<string, CrdInfo>();
  for (const name of crdFiles()) {
    const file = `${CRDS_DIR}${name}`;
    for (const doc of Yaml.load(file) as CrdDocument[]) {
      if (doc?.kind !== 'CustomResourceDefinition') continue;
      const served = doc.spec.versions.find((v) => v.storage) ?? doc.spec.versions[0];
      if (!served) throw new Error(`${file}: the CRD has no versions`);
      crds.set(doc.spec.names.kind, {
        kind: doc.spec.names.kind,
        plural: doc.spec.names.plural,
        group: doc.spec.group,
        version: served.name,
        file,
        schema: served.schema.openAPIV3Schema,
      });
    }
  }
  cache = crds;
  return crds;
}

/** The CRD files, sorted, so everything derived from them is deterministic. */
export function crdFiles(): string[] {
  if (!CRDS_DIR) throw new Error('crds/ not found next to lib/: the package is incomplete; reinstall it');
  return readdirSync(CRDS_DIR)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort();
}

interface CrdDocument {
  kind: string;
  spec: {
    group: string;
    names: { kind: string; plural: string };
    versions: Array<{ name: string; storage?: boolean; schema: { openAPIV3Schema: SchemaNode } }>;
  };
}
