/**
 * `--job-template FILE`: a Pod template fragment (YAML, the shape of a Job's spec.template) for the
 * run Pods: where they schedule and what they may use. Only the fields below are taken; any other
 * is refused at start-up, so nothing written there is silently ignored. The operator's own fields
 * (image, args, the request and Secret mounts, restartPolicy, the termination message) cannot be set.
 */
import { parse } from 'yaml';
import type { JobPodTemplate } from './job-manifest.ts';

export const POD_FIELDS = [
  'nodeSelector',
  'tolerations',
  'affinity',
  'topologySpreadConstraints',
  'priorityClassName',
  'runtimeClassName',
  'schedulerName',
  'imagePullSecrets',
  'hostNetwork',
  'dnsPolicy',
  'dnsConfig',
  'securityContext',
  'terminationGracePeriodSeconds',
] as const;
export const CONTAINER_FIELDS = [
  'resources',
  'env',
  'envFrom',
  'imagePullPolicy',
  'securityContext',
] as const;

export class JobTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobTemplateError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks a template; `source` names it in errors. */
export function parseJobTemplate(text: string, source: string): JobPodTemplate {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new JobTemplateError(`${source}: not YAML: ${(error as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc)) throw new JobTemplateError(`${source}: expected a mapping with metadata and spec`);
  const problems: string[] = [];
  const unknown = (where: string, value: Record<string, unknown>, allowed: readonly string[]) => {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key))
        problems.push(`${where}${key} is not supported (supported: ${allowed.join(', ')})`);
    }
  };
  unknown('', doc, ['metadata', 'spec']);
  const template: { -readonly [K in keyof JobPodTemplate]: JobPodTemplate[K] } = {};
  if (doc.metadata !== undefined) {
    if (!isRecord(doc.metadata)) problems.push('metadata must be a mapping');
    else {
      unknown('metadata.', doc.metadata, ['labels', 'annotations']);
      const metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};
      for (const field of ['labels', 'annotations'] as const) {
        const value = doc.metadata[field];
        if (value === undefined) continue;
        if (!isRecord(value) || Object.values(value).some((v) => typeof v !== 'string'))
          problems.push(`metadata.${field} must map names to strings`);
        else metadata[field] = value as Record<string, string>;
      }
      template.metadata = metadata;
    }
  }
  if (doc.spec !== undefined) {
    if (!isRecord(doc.spec)) problems.push('spec must be a mapping');
    else {
      const { containers, ...pod } = doc.spec;
      unknown('spec.', pod, POD_FIELDS);
      if (pod.hostNetwork !== undefined && typeof pod.hostNetwork !== 'boolean')
        problems.push('spec.hostNetwork must be true or false');
      template.spec = pod;
      if (containers !== undefined) {
        if (!Array.isArray(containers) || containers.length !== 1 || !isRecord(containers[0])) {
          problems.push('spec.containers must hold one container (the run container, named run or unnamed)');
        } else {
          const { name, ...container } = containers[0];
          if (name !== undefined && name !== 'run')
            problems.push(
              `spec.containers[0].name must be run (the run container), not ${JSON.stringify(name)}`,
            );
          unknown('spec.containers[0].', container, CONTAINER_FIELDS);
          if (container.env !== undefined && !Array.isArray(container.env))
            problems.push('spec.containers[0].env must be a list');
          template.container = container;
        }
      }
    }
  }
  if (problems.length > 0) throw new JobTemplateError(`${source}: ${problems.join('; ')}`);
  return template;
}
