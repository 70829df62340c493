/**
 * Synth-time validation and kube-apiserver give the same verdict, word for word: every invalid
 * spec of the fixture table is sent to the API server (server-side dry run), and each violation
 * the constructs' validator reports appears in the API server's error as `field: message`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateSpec } from '../../../lib/index.ts';
import { KubeClient } from '../../env/kube-client.ts';
import { INVALID_SPECS, VALID_SPECS } from '../../fixtures/invalid-specs.ts';

test('the API server reports exactly the violations the constructs report at synth time', async (t) => {
  const kube = KubeClient.admin();
  const namespace = await kube.createNamespace('kb-same-errors', t);
  const differences: string[] = [];
  const specs = [...INVALID_SPECS, ...VALID_SPECS];
  for (const [i, { name, kind, spec }] of specs.entries()) {
    const manifest = {
      apiVersion: 'kafka.oso.sh/v1alpha1',
      kind,
      metadata: { name: `spec-${i}`, namespace },
      spec,
    };
    const server = await kube.tryKubectl(['create', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(manifest),
    });
    const ours = validateSpec(kind, spec);
    if ((server.code === 0) !== (ours.length === 0)) {
      differences.push(
        `${name}: API server ${server.code === 0 ? 'accepts' : 'refuses'}, synth ${ours.length === 0 ? 'accepts' : 'refuses'}: ${server.stderr.trim()}`,
      );
      continue;
    }
    for (const v of ours) {
      // Unknown fields are refused while decoding, before validation, with the path in the message.
      const expected = v.message.startsWith('unknown field') ? v.message : `${v.field}: ${v.message}`;
      if (!server.stderr.includes(expected)) {
        differences.push(
          `${name}: synth says "${v.field}: ${v.message}", API server says: ${server.stderr.trim()}`,
        );
      }
    }
  }
  assert.ok(specs.length > 100);
  assert.deepEqual(differences, []);
});
