/**
 * dist/argocd/argocd-cm-kafka-backup.yaml is exactly what scripts/gen-argocd.ts renders from
 * runtime/gitops/argocd/, in the argocd-cm format Argo CD reads, and the Lua in it runs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { KAFKA_API_GROUP } from '../../../runtime/operator/resource.ts';
import { ARGOCD_CM_FILE, customizations, renderArgoCdConfigMap } from '../../../scripts/gen-argocd.ts';
import { customization, runArgoLua } from './argo-lua.ts';

test('the committed argocd-cm snippet is fresh (run `npm run generate` when this fails)', () => {
  assert.ok(
    readFileSync(ARGOCD_CM_FILE, 'utf8') === renderArgoCdConfigMap(),
    'dist/argocd/argocd-cm-kafka-backup.yaml is stale: run `node --import tsx scripts/gen-argocd.ts` and commit it',
  );
  assert.equal(renderArgoCdConfigMap(), renderArgoCdConfigMap(), 'deterministic');
});

test('it holds a health key per kind and the KafkaBackup actions, each the Lua file byte for byte', async () => {
  const configMap = parse(readFileSync(ARGOCD_CM_FILE, 'utf8'));
  assert.deepEqual([configMap.kind, configMap.metadata.name], ['ConfigMap', 'argocd-cm']);
  const data = configMap.data as Record<string, string>;
  const kinds = customizations().map((c) => c.kind);
  assert.deepEqual(
    Object.keys(data).sort(),
    [
      `resource.customizations.actions.${KAFKA_API_GROUP}_KafkaBackup`,
      ...kinds.map((k) => `resource.customizations.health.${KAFKA_API_GROUP}_${k}`),
    ].sort(),
  );
  for (const kind of kinds) {
    assert.equal(
      data[`resource.customizations.health.${KAFKA_API_GROUP}_${kind}`],
      customization(`${kind}/health.lua`),
    );
  }
  // The actions value is itself YAML, as Argo CD parses it (discovery.lua, definitions[].action.lua).
  const actions = parse(data[`resource.customizations.actions.${KAFKA_API_GROUP}_KafkaBackup`] as string);
  assert.equal(actions['discovery.lua'], customization('KafkaBackup/actions/discovery.lua'));
  assert.deepEqual(actions.definitions, [
    { name: 'run-now', 'action.lua': customization('KafkaBackup/actions/run-now/action.lua') },
  ]);
  // What users paste runs.
  const health = await runArgoLua(
    data[`resource.customizations.health.${KAFKA_API_GROUP}_KafkaBackup`] as string,
    {
      kind: 'KafkaBackup',
      metadata: { name: 'b', generation: 1 },
    },
  );
  assert.deepEqual(health, {
    status: 'Progressing',
    message: 'Waiting for the operator to reconcile the backup',
  });
});
