/**
 * Installs crds/ on the test environment's kube-apiserver once per test process and waits until
 * every CRD is Established and served. CRDs are cluster-scoped, so tests share them; objects live
 * in per-test namespaces.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { KubeClient } from '../../env/kube-client.ts';

export const REPO = resolve(import.meta.dirname, '..', '..', '..');
export const CRD_DIR = join(REPO, 'crds');
export const API_VERSION = 'kafka.oso.sh/v1alpha1';

export function crdFiles(): string[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(CRD_DIR, f));
}

let installed: Promise<void> | undefined;

export function installCrds(kube: KubeClient): Promise<void> {
  installed ??= (async () => {
    // A field manager of our own, forced: other tests (dist/) apply the same CRDs.
    await kube.kubectl([
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=kafka-backup-api-test',
      ...crdFiles().flatMap((f) => ['-f', f]),
    ]);
    await kube.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=120s',
      ...crdFiles().map(
        (f) =>
          `crd/${f
            .split('/')
            .pop()
            ?.replace(/\.yaml$/, '')}`,
      ),
    ]);
  })();
  return installed;
}

/** A custom resource of one of our kinds, as YAML. */
export function resourceYaml(kind: string, name: string, spec: unknown, namespace?: string): string {
  return stringify({
    apiVersion: API_VERSION,
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec,
  });
}

/** A DNS-label resource name from a readable test name. */
export function slug(text: string, max = 60): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
}
