import * as kplus from 'cdk8s-plus-34';

/**
 * A Kubernetes Secret the operator reads at run time: either a cdk8s-plus `ISecret`
 * (usually `kplus.Secret.fromSecretName(...)`) or the Secret's name in the resource's namespace.
 *
 * Only the name is ever written to the manifest, so secret material never lands in `dist/`.
 */
export type SecretReference = kplus.ISecret | string;

/**
 * Resolves a reference to the Secret's name, refusing Secrets whose data would be synthesized.
 *
 * A `kplus.Secret` created in the app carries its data into `dist/` (and so into Git); only
 * imported Secrets and plain names are references.
 */
export function secretName(ref: SecretReference, field: string): string {
  if (typeof ref === 'string') {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(ref) || ref.length > 253) {
      throw new Error(
        `${field}: "${ref}" is not a valid Secret name; use a DNS subdomain name (lowercase letters, digits, '-' and '.')`,
      );
    }
    return ref;
  }
  if (ref instanceof kplus.Secret) {
    throw new Error(
      `${field}: pass a reference to an existing Secret (kplus.Secret.fromSecretName(scope, id, '${ref.name}') or the name as a string), ` +
        'not a Secret defined in the app: its data would be committed to dist/',
    );
  }
  return ref.name;
}
