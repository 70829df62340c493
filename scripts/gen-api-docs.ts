/**
 * Generates the API reference (docs/api/) from crds/*.yaml: one page per kind plus one page for the
 * sub-objects shared by several kinds (kafkaCluster, storage, ...), so they are documented once.
 * Everything comes from the CRDs' own descriptions, defaults, bounds and CEL rules, so the reference
 * cannot disagree with what the API server enforces. `--check` fails when docs/api/ is stale.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { REMOVED_FIELDS } from '../runtime/config/removed-fields.ts';

const REPO = resolve(import.meta.dirname, '..');
export const DOCS_DIR = join(REPO, 'docs', 'api');
const CRD_DIR = join(REPO, 'crds');

interface Node {
  type?: string;
  description?: string;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  additionalProperties?: Node;
  enum?: unknown[];
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
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string }[];
}

interface Crd {
  spec: {
    names: { kind: string; plural: string; shortNames: string[]; categories: string[] };
    versions: {
      name: string;
      additionalPrinterColumns: { name: string; jsonPath: string; description: string; priority?: number }[];
      schema: { openAPIV3Schema: Node };
    }[];
  };
}

/** Sub-objects documented once in shared-types.md, recognised by their property names. */
const SHARED: { name: string; anchor: string; keys: string[] }[] = [
  {
    name: 'KafkaCluster',
    anchor: 'kafkacluster',
    keys: ['bootstrapServers', 'caSecret', 'connection', 'saslSecret', 'securityProtocol', 'tlsSecret'],
  },
  { name: 'Storage', anchor: 'storage', keys: ['azure', 'gcs', 'pvc', 's3', 'storageType'] },
  {
    name: 'RateLimiting',
    anchor: 'ratelimiting',
    keys: ['bytesPerSec', 'maxConcurrentPartitions', 'recordsPerSec'],
  },
  {
    name: 'CircuitBreaker',
    anchor: 'circuitbreaker',
    keys: ['enabled', 'failureThreshold', 'operationTimeoutMs', 'resetTimeoutSecs', 'successThreshold'],
  },
  { name: 'Encryption', anchor: 'encryption', keys: ['algorithm', 'keySecret'] },
  { name: 'Approval', anchor: 'approval', keys: ['approved', 'policy'] },
  { name: 'BackupRef', anchor: 'backupref', keys: ['backupId', 'name', 'namespace', 'storage'] },
  {
    name: 'Condition',
    anchor: 'condition',
    keys: ['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type'],
  },
];

function sharedTypeOf(node: Node): (typeof SHARED)[number] | undefined {
  const keys = Object.keys(node.properties ?? {})
    .sort()
    .join(',');
  return SHARED.find((s) => s.keys.join(',') === keys);
}

function typeName(node: Node): string {
  const shared = node.type === 'object' ? sharedTypeOf(node) : undefined;
  if (shared) return `[${shared.name}](shared-types.md#${shared.anchor})`;
  if (node.type === 'array') return `${node.items ? typeName(node.items) : 'unknown'}[]`;
  if (node.type === 'object' && node.additionalProperties)
    return `map[string]${typeName(node.additionalProperties)}`;
  if (node.format && node.type === 'string') return `string (${node.format})`;
  return node.type ?? 'unknown';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

function code(value: unknown): string {
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

function constraints(node: Node, required: boolean): string {
  const out: string[] = [];
  if (required) out.push('**required**');
  if (node.enum) out.push(`one of ${node.enum.map(code).join(', ')}`);
  if (node.minimum !== undefined) out.push(`>= ${node.minimum}`);
  if (node.maximum !== undefined) out.push(`<= ${node.maximum}`);
  if (node.minLength !== undefined && node.minLength > 0) out.push(`length >= ${node.minLength}`);
  if (node.maxLength !== undefined && !node.enum) out.push(`length <= ${node.maxLength}`);
  if (node.pattern) out.push(`pattern ${code(node.pattern)}`);
  if (node.minItems !== undefined) out.push(`items >= ${node.minItems}`);
  if (node.maxItems !== undefined) out.push(`items <= ${node.maxItems}`);
  if (node.minProperties !== undefined) out.push(`entries >= ${node.minProperties}`);
  if (node.maxProperties !== undefined) out.push(`entries <= ${node.maxProperties}`);
  return out.join(', ');
}

interface Row {
  path: string;
  node: Node;
  required: boolean;
}

/** Fields under `node`, depth first; shared types are not expanded (they have their own page). */
function rows(node: Node, prefix: string, expandShared: boolean): Row[] {
  const out: Row[] = [];
  const visit = (n: Node, path: string, required: boolean, top: boolean) => {
    if (path && !top) out.push({ path, node: n, required });
    if (!top && !expandShared && n.type === 'object' && sharedTypeOf(n)) return;
    if (n.type === 'object' && n.properties) {
      for (const [name, child] of Object.entries(n.properties)) {
        visit(child, path ? `${path}.${name}` : name, n.required?.includes(name) ?? false, false);
      }
    }
    if (n.type === 'array' && n.items?.properties && !(n.items.type === 'object' && sharedTypeOf(n.items))) {
      for (const [name, child] of Object.entries(n.items.properties)) {
        visit(child, `${path}[].${name}`, n.items.required?.includes(name) ?? false, false);
      }
    }
    if (n.type === 'object' && n.additionalProperties?.properties) {
      for (const [name, child] of Object.entries(n.additionalProperties.properties)) {
        visit(
          child,
          `${path}.<key>.${name}`,
          n.additionalProperties.required?.includes(name) ?? false,
          false,
        );
      }
    }
  };
  visit(node, prefix, false, true);
  return out;
}

function stripDefault(node: Node): string {
  const text = node.description ?? '';
  return node.default === undefined ? text : text.replace(/ Defaults to .*$/, '');
}

function fieldTable(list: Row[]): string {
  const lines = ['| Field | Type | Default | Constraints | Description |', '|---|---|---|---|---|'];
  for (const { path, node, required } of list) {
    // The Default column shows it; the sentence the CRD generator appends for kubectl explain goes.
    const description = stripDefault(node);
    lines.push(
      `| \`${path}\` | ${typeName(node)} | ${node.default !== undefined ? code(node.default) : ''} | ${cell(constraints(node, required))} | ${cell(description)} |`,
    );
  }
  return lines.join('\n');
}

function rulesTable(list: Row[], root?: { path: string; node: Node }): string {
  const lines = ['| On | Rule (must hold) | Message when it does not |', '|---|---|---|'];
  const all = root ? [{ ...root, required: false }, ...list] : list;
  let count = 0;
  for (const { path, node } of all) {
    // A shared type's rules are listed on its own page.
    if (path && node.type === 'object' && sharedTypeOf(node) && root?.path !== path) continue;
    for (const rule of node['x-kubernetes-validations'] ?? []) {
      const on = `${path}${rule.fieldPath ?? ''}`.replace(/^\./, '');
      lines.push(
        `| \`${on || '(object)'}\` | \`${cell(rule.rule.length > 160 ? `${rule.rule.slice(0, 157)}...` : rule.rule)}\` | ${cell(rule.message)} |`,
      );
      count++;
    }
  }
  return count ? lines.join('\n') : '_No rules beyond the schema._';
}

function kindPage(crd: Crd): string {
  const { names } = crd.spec;
  const version = crd.spec.versions[0];
  if (!version) throw new Error(`${names.kind}: no version`);
  const root = version.schema.openAPIV3Schema;
  const spec = root.properties?.spec as Node;
  const status = root.properties?.status as Node;
  const specRows = rows(spec, 'spec', false);
  const columns = version.additionalPrinterColumns
    .map(
      (c) => `| ${c.name} | \`${c.jsonPath}\` | ${c.priority ? 'wide only' : ''} | ${cell(c.description)} |`,
    )
    .join('\n');
  return `<!-- Generated by scripts/gen-api-docs.ts from crds/${names.plural}.kafka.oso.sh.yaml. Do not edit. -->
# ${names.kind}

\`kafka.oso.sh/${version.name}\`, short name \`${names.shortNames.join('`, `')}\`, category \`${names.categories.join('`, `')}\`.

${root.description ?? ''}

## Spec

${spec.description ?? ''}

${fieldTable(specRows)}

### Validation rules

CEL rules the API server evaluates on create and update, besides the schema constraints above.
Shared types carry their own rules ([shared types](shared-types.md)).

${rulesTable(specRows, { path: '', node: root })}

## Status

Written by the operator only (status subresource).

${fieldTable(rows(status, 'status', false))}

## Printer columns

| Column | JSONPath | | Description |
|---|---|---|---|
${columns}
`;
}

function sharedPage(crds: Crd[]): string {
  const found = new Map<string, Node>();
  for (const crd of crds) {
    for (const { node } of rows(crd.spec.versions[0]?.schema.openAPIV3Schema as Node, '', true)) {
      const target = node.type === 'array' && node.items ? node.items : node;
      const shared = target.type === 'object' ? sharedTypeOf(target) : undefined;
      if (shared && !found.has(shared.name)) found.set(shared.name, target);
    }
  }
  const sections = SHARED.filter((s) => found.has(s.name)).map((s) => {
    const node = found.get(s.name) as Node;
    const list = rows(node, '', false).filter((r) => r.path);
    return `## ${s.name}

${stripDefault(node)}

${fieldTable(list)}

${rulesTable(list, { path: '', node })}
`;
  });
  return `<!-- Generated by scripts/gen-api-docs.ts from crds/. Do not edit. -->
# Shared types

Sub-objects used by several kinds, with the same fields, defaults and rules everywhere.

${sections.join('\n')}`;
}

function indexPage(crds: Crd[]): string {
  const kinds = crds
    .map((c) => {
      const root = c.spec.versions[0]?.schema.openAPIV3Schema;
      const summary = (root?.description ?? '').split('. ')[0];
      return `| [${c.spec.names.kind}](${c.spec.names.plural}.md) | \`${c.spec.names.shortNames.join(', ')}\` | ${cell(summary ?? '')}. |`;
    })
    .join('\n');
  return `<!-- Generated by scripts/gen-api-docs.ts from crds/. Do not edit. -->
# API reference: \`kafka.oso.sh/v1alpha1\`

Generated from the CustomResourceDefinitions in \`crds/\`. Kubernetes 1.29 or newer: the rules
below are CEL \`x-kubernetes-validations\` (GA since 1.29), and the API tests pass on 1.29.15 and
1.37.2. On 1.29, when several rules of one object fail at once, only the first error names its
field exactly (kubernetes#123475, fixed in 1.30); the messages are right either way.

\`kubectl explain <kind>.spec\` shows the same descriptions; \`kubectl get kafka-backup\` lists
resources of all five kinds.

| Kind | Short name | What it is |
|---|---|---|
${kinds}

[Shared types](shared-types.md): kafkaCluster, storage, rate limiting, circuit breaker, encryption,
approval, backup reference, conditions.

## Conventions

- **YAML written for the previous operator applies unchanged**, with the exceptions in
  [Removed fields](#removed-fields). Every other field it accepted exists with the same name and
  default, and does what its description says: the fields it ignored are implemented here.
- **Schedules** (\`KafkaBackup\`, \`KafkaBackupValidation\`): the seconds-first cron of the previous
  operator (6 fields, or 7 with a trailing year, e.g. \`0 0 * * * * *\`), the standard 5-field form
  (\`0 * * * *\`), or \`@hourly\`, \`@daily\`, ... A 6- or 7-field expression is always read as
  seconds-first. The field count and each field's range are checked at admission.
  \`timeZone\` is an IANA name (default UTC). \`suspend\` pauses the schedule. Runs never overlap
  (\`concurrencyPolicy\`: \`Forbid\` skips a tick, \`Replace\` stops the running run). The
  history limits trim \`status.history\`.
- **One-shot kinds** (\`KafkaRestore\`, \`KafkaOffsetReset\`, \`KafkaOffsetRollback\`, and an
  unscheduled \`KafkaBackupValidation\`) run once. The operator sets \`status.startTime\` right
  before it acts. From then on the spec is immutable, except \`spec.approval.approved\`, which a
  CEL transition rule enforces. Before that, the spec may still be edited (e.g. while the run
  waits for approval).
- **Re-run:** set the annotation \`kafka.oso.sh/rerun\` to any new value (e.g. a timestamp) to run
  a finished one-shot resource again with the same spec. On a \`KafkaBackup\`, it starts a run now.
  The operator records the value it acted on in \`status.observedRerun\`. To run something
  different, create a new resource.
- **Approval gate:** \`spec.approval.policy: Manual\` on \`KafkaRestore\`, \`KafkaOffsetReset\` and
  \`KafkaOffsetRollback\` makes the operator publish its plan in status and wait in phase
  \`AwaitingApproval\` (condition \`Approved=False\`) until \`spec.approval.approved: true\`. The
  default \`Automatic\` keeps the previous operator's behaviour.
- **Run deadline:** \`spec.activeDeadlineSeconds\` stops a run that takes longer and marks it
  \`Failed\` with reason \`DeadlineExceeded\`.
- **Secrets are referenced, never inlined.** They are read from the resource's namespace when a
  run starts, and never copied into status, Events or logs.
- **Status:** \`conditions\` (\`Ready\`, \`Reconciling\`, \`Stalled\`, kind-specific ones such as
  \`Approved\`) are the API for automation. \`phase\` is a summary for printer columns.

## Removed fields

Fields of the previous operator that cannot work here. They are not in the CRDs, so the API server
refuses them (\`unknown field\`) and the \`kafka-backup\` CLI refuses them with the reason below,
rather than accepting and ignoring them. Delete them from your YAML.

| Field (under \`spec\`) | Kinds | Why |
|---|---|---|
${removedRows()}
`;
}

function removedRows(): string {
  return Object.values(REMOVED_FIELDS)
    .map((f) => `| \`${f.path}\` | ${f.kinds.join(', ')} | ${cell(f.reason)}. |`)
    .join('\n');
}

export function renderApiDocs(): Map<string, string> {
  const crds = readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(join(CRD_DIR, f), 'utf8')) as Crd);
  const pages = new Map<string, string>();
  pages.set('README.md', indexPage(crds));
  pages.set('shared-types.md', sharedPage(crds));
  for (const crd of crds) pages.set(`${crd.spec.names.plural}.md`, kindPage(crd));
  return pages;
}

function main(): void {
  const pages = renderApiDocs();
  if (process.argv.includes('--check')) {
    const stale = [...pages].filter(([file, text]) => {
      try {
        return readFileSync(join(DOCS_DIR, file), 'utf8') !== text;
      } catch {
        return true;
      }
    });
    if (stale.length) {
      console.error(`docs/api is stale: run \`node --import tsx scripts/gen-api.ts\` and commit the result`);
      process.exit(1);
    }
    return;
  }
  mkdirSync(DOCS_DIR, { recursive: true });
  // Pages of kinds that no longer exist go; anything else in docs/api/ is not ours to remove.
  for (const file of readdirSync(DOCS_DIR)) {
    if (/^kafka[a-z]+s\.md$/.test(file) && !pages.has(file)) rmSync(join(DOCS_DIR, file));
  }
  for (const [file, text] of pages) writeFileSync(join(DOCS_DIR, file), text);
  console.log(`wrote ${pages.size} pages to ${DOCS_DIR}`);
}

if (import.meta.main) main();
