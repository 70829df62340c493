import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiSecrets, SecretNotAvailableError } from '../../../runtime/operator/api-secrets.ts';
import { KubeApiError } from '../../../runtime/operator/errors.ts';

const reader = {
  async readSecret(key: { namespace: string; name: string }) {
    if (key.name === 'present') return { token: Buffer.from('t0k3n-value') };
    if (key.name === 'unlisted') throw new KubeApiError(403, 'secrets "unlisted" is forbidden', 'Forbidden');
    return undefined;
  },
};

test('Secrets through the API: the value, or what to do when it is missing, lacks the key or is not allowed', async () => {
  const secrets = apiSecrets(reader, 'team');
  const read = (name: string, key = 'token') =>
    secrets.read({ kind: 'secret', name, key }).then(
      (v) => Buffer.from(v).toString(),
      (e: Error) => e,
    );
  assert.equal(await read('present'), 't0k3n-value');
  const missing = await read('absent');
  assert.ok(missing instanceof SecretNotAvailableError);
  assert.match(missing.message, /Secret team\/absent does not exist; create it with the key 'token'/);
  assert.match(String(await read('present', 'other')), /has no key 'other' \(it has: token\)/);
  const forbidden = await read('unlisted');
  assert.ok(forbidden instanceof SecretNotAvailableError);
  assert.match(
    forbidden.message,
    /may not read Secret team\/unlisted: add 'unlisted' to the KafkaBackupOperator's secretNames/,
  );
  assert.match(
    String(await secrets.read({ kind: 'env', name: 'X' }).catch((e: Error) => e.message)),
    /environment variable/,
  );
});
