import { createHash } from 'node:crypto';
import * as kplus from 'cdk8s-plus-34';
import type { Construct } from 'constructs';
import { referencedSecretNames } from './common.ts';
import { validateSpec } from './validation/index.ts';

/** The API group and version of the five kinds. */
export const API_GROUP = 'kafka.oso.sh';
export const API_VERSION = `${API_GROUP}/v1alpha1`;

/**
 * Annotation that asks the operator for a new run with the same spec: set it to any new value
 * (for example a timestamp).
 */
export const RERUN_ANNOTATION = `${API_GROUP}/rerun`;

/**
 * Base of the five custom-resource constructs: a cdk8s-plus `Resource`, so `permissions.grantRead()`
 * and the RBAC helpers work on them exactly as on built-in kinds.
 */
export abstract class KafkaResource extends kplus.Resource {
  protected constructor(
    scope: Construct,
    id: string,
    /** The custom resource kind, e.g. `KafkaBackup`. */
    private readonly customKind: string,
  ) {
    super(scope, id);
    // The whole spec is checked against the CRD (schema and CEL rules) once every add*() call is in.
    this.node.addValidation({
      validate: () => validateSpec(this.customKind, this.wireSpec()).map((v) => `${v.field}: ${v.message}`),
    });
  }

  /** Names of the Secrets this resource makes the operator read (never their contents). */
  public get secretNames(): string[] {
    return referencedSecretNames(this.wireSpec());
  }

  /** The spec as JSON on the wire (Dates as RFC 3339 strings), before the L1 maps it. */
  private wireSpec(): unknown {
    return JSON.parse(JSON.stringify(this._toKube()));
  }

  /**
   * The spec as written to the manifest.
   * @internal
   */
  public abstract _toKube(): object;

  /**
   * Lets the subjects read this one object (get, list, watch): a Role scoped to it by name and a RoleBinding.
   */
  public grantRead(...subjects: kplus.ISubject[]): kplus.RoleBinding {
    return this.grant('read', ['get', 'list', 'watch'], subjects);
  }

  /**
   * Lets the subjects start a run of this one object by setting the `kafka.oso.sh/rerun` annotation
   * (get and patch on it, nothing else): a Role scoped to it by name and a RoleBinding.
   */
  public grantTrigger(...subjects: kplus.ISubject[]): kplus.RoleBinding {
    return this.grant('trigger', ['get', 'patch'], subjects);
  }

  /** A Role allowing `verbs` on this one object, bound to the subjects; both named after the object. */
  private grant(purpose: string, verbs: string[], subjects: kplus.ISubject[]): kplus.RoleBinding {
    if (subjects.length === 0)
      throw new Error(`${this.node.path}: grant${purpose} needs at least one subject`);
    const address = subjectsAddress(subjects);
    const name = `${this.name}-${purpose}-${address}`;
    const metadata = { name, namespace: this.metadata.namespace };
    const role = new kplus.Role(this, `${purpose}-role-${address}`, { metadata });
    role.allow(verbs, this);
    const binding = new kplus.RoleBinding(this, `${purpose}-binding-${address}`, { metadata, role });
    binding.addSubjects(...subjects);
    return binding;
  }
}

function subjectsAddress(subjects: readonly kplus.ISubject[]): string {
  const hash = createHash('sha256');
  for (const subject of subjects) hash.update(subject.node.addr);
  return hash.digest('hex').slice(0, 8);
}
