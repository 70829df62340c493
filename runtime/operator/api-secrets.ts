import type { SecretReadOptions, SecretResolver, SecretSource } from '../config/secrets.ts';
import { redact } from '../log.ts';
import { KubeApiError } from './errors.ts';
import type { SecretReader } from './kube/port.ts';

/**
 * The operator's SecretResolver: a spec's `{name, key}` references are read through the Kubernetes
 * API from the resource's own namespace when a run starts, never cached beyond the run, never
 * copied anywhere. The CLI-only forms (a file path, an environment variable) are refused: in the
 * operator they would read the controller's own files and environment.
 */
export function apiSecrets(client: SecretReader, namespace: string): SecretResolver {
  return {
    async read(source: SecretSource, options: SecretReadOptions = {}): Promise<Uint8Array> {
      if (source.kind !== 'secret') {
        throw new SecretNotAvailableError(
          `${source.kind === 'file' ? `a file path (${source.path})` : `an environment variable (${source.name})`} ` +
            'cannot be used in a resource applied to the cluster; reference a Secret with {name, key} instead',
        );
      }
      let data: Record<string, Buffer> | undefined;
      try {
        data = await client.readSecret({ namespace, name: source.name });
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 403) {
          // The RBAC names the Secrets the operator may read: say how to add this one.
          throw new SecretNotAvailableError(
            `the operator may not read Secret ${namespace}/${source.name}: add '${source.name}' to the KafkaBackupOperator's secretNames (or allowSecretsOf() the resource that names it) and apply the operator's RBAC again`,
          );
        }
        throw error;
      }
      if (!data) {
        throw new SecretNotAvailableError(
          `Secret ${namespace}/${source.name} does not exist; create it with the key '${source.key}'`,
        );
      }
      const value = data[source.key];
      if (value === undefined) {
        throw new SecretNotAvailableError(
          `Secret ${namespace}/${source.name} has no key '${source.key}' (it has: ${Object.keys(data).join(', ') || 'none'})`,
        );
      }
      if (options.sensitive !== false) redact(value.toString('utf8'));
      return value;
    },
  };
}

/** A Secret a spec names is missing or lacks the key: the user must create or fix it. */
export class SecretNotAvailableError extends Error {
  readonly terminal = false;
  constructor(message: string) {
    super(message);
    this.name = 'SecretNotAvailableError';
  }
}
