/** The API server reads schedules exactly as test/unit/api/cron.test.ts says (same table). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../env/kube-client.ts';
import { BASE_SPECS, INVALID_SCHEDULES, patch, VALID_SCHEDULES } from '../../fixtures/invalid-specs.ts';
import { installCrds, resourceYaml, slug } from './crd-install.ts';

const kube = KubeClient.admin();
let namespace: string;

before(async () => {
  await installCrds(kube);
  namespace = await kube.createNamespace('api-cron');
});
after(() => kube.deleteNamespace(namespace));

function dryRun(kind: 'KafkaBackup' | 'KafkaBackupValidation', schedule: string) {
  return kube.tryKubectl(['create', '--dry-run=server', '-n', namespace, '-f', '-'], {
    input: resourceYaml(kind, slug(`s-${schedule}`) || 's', patch(BASE_SPECS[kind], { schedule })),
  });
}

describe('schedules on the API server', () => {
  for (const schedule of VALID_SCHEDULES) {
    test(`accepts '${schedule}'`, async () => {
      const result = await dryRun('KafkaBackup', schedule);
      assert.equal(result.code, 0, result.stderr);
    });
  }
  for (const { schedule, message } of INVALID_SCHEDULES) {
    test(`refuses '${schedule}'`, async () => {
      for (const kind of ['KafkaBackup', 'KafkaBackupValidation'] as const) {
        const result = await dryRun(kind, schedule);
        assert.notEqual(result.code, 0, `${kind} accepted '${schedule}'`);
        assert.ok(result.stderr.includes('spec.schedule'), result.stderr);
        assert.ok(result.stderr.includes(message), result.stderr);
      }
    });
  }
});
