import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KafkaError } from '../../../../runtime/kafka/port.ts';
import { classifyPrepareError } from '../../../../runtime/operator/controllers/one-shot.ts';
import {
  backupOf,
  latestRestoreWithMapping,
  resolveBackupRef,
  resolveMappingRestore,
  resolveResetTarget,
  resolveSnapshotRef,
  restoreIdOfMappingPath,
  snapshotIdOf,
  UnresolvedReferenceError,
} from '../../../../runtime/operator/controllers/references.ts';
import { ObjectCache } from '../../../../runtime/operator/object-cache.ts';
import { KAFKA_KINDS, type KubeObject, type ResourceKind } from '../../../../runtime/operator/resource.ts';
import { FakeKube } from '../fake-kube.ts';

const storage = { storageType: 's3', s3: { bucket: 'b', region: 'r', credentialsSecret: { name: 'creds' } } };

function world(objects: Array<[ResourceKind, KubeObject]>, remote: Array<[ResourceKind, KubeObject]> = []) {
  const caches = new Map<string, ObjectCache>();
  for (const [kind, object] of objects) {
    const cache = caches.get(kind.kind) ?? new ObjectCache();
    cache.upsert(object);
    caches.set(kind.kind, cache);
  }
  const client = new FakeKube();
  for (const [kind, object] of remote) client.put(kind, object);
  return { cacheOf: (kind: ResourceKind) => caches.get(kind.kind) ?? new ObjectCache(), client };
}

const kb = (name: string, namespace = 'ns', extra: Partial<KubeObject> = {}): [ResourceKind, KubeObject] => [
  KAFKA_KINDS.KafkaBackup,
  { metadata: { name, namespace }, spec: { storage }, ...extra },
];

describe('reference resolution', () => {
  test('backupRef.name -> the KafkaBackup storage; backup id: backupRef.backupId, else status.backupId, else its name', async () => {
    const context = world([kb('production-backup')]);
    assert.deepEqual(await resolveBackupRef({ name: 'production-backup' }, 'ns', context), {
      storage,
      backupId: 'production-backup',
      secretsNamespace: 'ns',
      backup: { namespace: 'ns', name: 'production-backup' },
    });
    const pinned = await resolveBackupRef({ name: 'production-backup', backupId: 'b-1' }, 'ns', context);
    assert.equal(pinned.backupId, 'b-1');
    const withStatus = backupOf(
      kb('x', 'ns', { status: { backupId: 'x-2' } })[1],
      { namespace: 'ns', name: 'x' },
      undefined,
      'f',
    );
    assert.equal(withStatus.backupId, 'x-2');
  });

  test('a KafkaBackup in another namespace is read through the API; its Secrets come from there', async () => {
    const context = world([], [kb('shared', 'backups')]);
    const resolved = await resolveBackupRef({ name: 'shared', namespace: 'backups' }, 'ns', context);
    assert.equal(resolved.secretsNamespace, 'backups');
    assert.deepEqual(resolved.storage, storage);
  });

  test("backupRef.storage is used directly, with this namespace's Secrets", async () => {
    const resolved = await resolveBackupRef({ name: '', storage, backupId: 'b' }, 'ns', world([]));
    assert.deepEqual(resolved, { storage, backupId: 'b', secretsNamespace: 'ns' });
  });

  test('a missing KafkaBackup is a retriable UnresolvedReferenceError saying what to fix', async () => {
    const error = await resolveBackupRef({ name: 'nope' }, 'ns', world([])).catch((e: unknown) => e);
    assert.ok(error instanceof UnresolvedReferenceError);
    assert.match(error.message, /KafkaBackup ns\/nope \(backupRef.name\) does not exist/);
    assert.deepEqual(
      { class: classifyPrepareError(error).class, reason: classifyPrepareError(error).reason },
      { class: 'retriable', reason: 'ReferenceNotFound' },
    );
  });

  test('a missing Secret found while parsing the spec stalls (retriable); an invalid spec fails', () => {
    const missing = new Error(
      'KafkaRestore ns/r is not valid:\n  - kafkaCluster: Secret ns/kafka-user does not exist; create it',
    );
    assert.equal(classifyPrepareError(missing).class, 'retriable');
    assert.equal(classifyPrepareError(missing).reason, 'SecretNotFound');
  });

  test('Kafka authentication and TLS failures stall (fixed in a Secret or CA); a refused connection too', () => {
    const auth = new KafkaError('could not read the cluster metadata: SASL authentication failed', {
      failure: { kind: 'sasl-failed', terminal: true, message: 'SASL authentication failed' },
    });
    const tls = new KafkaError('could not read the cluster metadata: TLS', {
      failure: { kind: 'tls-untrusted', terminal: true, message: 'not signed' },
    });
    assert.deepEqual(
      [auth, tls].map((e) => [classifyPrepareError(e).class, classifyPrepareError(e).reason]),
      [
        ['retriable', 'AuthenticationFailed'],
        ['retriable', 'TLSHandshakeFailed'],
      ],
    );
  });

  test('from-mapping: offsetMappingRef.restoreName, or the latest completed restore with a mapping', async () => {
    const restore = (
      name: string,
      completionTime: string,
      phase = 'Completed',
    ): [ResourceKind, KubeObject] => [
      KAFKA_KINDS.KafkaRestore,
      {
        metadata: { name, namespace: 'ns' },
        spec: { backupRef: { name: 'production-backup' } },
        status: {
          phase,
          completionTime,
          backupId: 'production-backup',
          offsetMappingPath: `offset-mappings/${name}-id`,
        },
      },
    ];
    const context = world([
      kb('production-backup'),
      restore('old', '2026-12-01T00:00:00Z'),
      restore('new', '2026-12-02T00:00:00Z'),
      restore('failed', '2026-12-03T00:00:00Z', 'Failed'),
    ]);
    const latest = await resolveMappingRestore(undefined, 'ns', context);
    assert.equal(latest.restore.name, 'new');
    assert.equal(latest.restoreId, 'new-id');
    assert.equal(latest.backupId, 'production-backup');
    assert.deepEqual(latest.storage, storage);
    assert.equal((await resolveMappingRestore({ restoreName: 'old' }, 'ns', context)).restoreId, 'old-id');
    await assert.rejects(resolveMappingRestore(undefined, 'other', context), /no completed KafkaRestore/);
    await assert.rejects(resolveMappingRestore({ restoreName: 'gone' }, 'ns', context), /does not exist/);
  });

  test('mapping and snapshot files on volumes are refused as invalid (not retried)', async () => {
    for (const attempt of [
      resolveMappingRestore({ pvcName: 'pvc', path: 'm.json' }, 'ns', world([])),
      resolveSnapshotRef({ name: 's', path: 'snap.json' }, 'ns', world([])),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      assert.equal(classifyPrepareError(error).class, 'terminal');
      assert.equal(classifyPrepareError(error).reason, 'InvalidConfig');
    }
  });

  test('restore ids from mapping paths; latest restore picks Completed ones with a mapping', () => {
    assert.equal(restoreIdOfMappingPath('offset-mappings/r-1'), 'r-1');
    assert.equal(restoreIdOfMappingPath('backups/x/offset-mappings/r-2'), 'r-2');
    assert.equal(restoreIdOfMappingPath(undefined), undefined);
    assert.equal(
      latestRestoreWithMapping([{ metadata: { name: 'a' }, status: { phase: 'Running' } }]),
      undefined,
    );
  });

  test("a reset uses the namespace's only KafkaBackup for its snapshot; without a snapshot it needs none", async () => {
    const none = world([]);
    await assert.rejects(
      resolveResetTarget({ resetStrategy: 'to-earliest' }, 'ns', none),
      /namespace ns has 0 KafkaBackups \(exactly one is used\)/,
    );
    assert.deepEqual(
      await resolveResetTarget({ resetStrategy: 'to-earliest', snapshotBeforeReset: false }, 'ns', none),
      {
        secretsNamespace: 'ns',
      },
    );
    const one = await resolveResetTarget(
      { resetStrategy: 'to-earliest' },
      'ns',
      world([kb('production-backup')]),
    );
    assert.deepEqual(one.storage, storage);
  });

  test('snapshotRef by the name of the reset that took it: its status.snapshotId, in its storage', async () => {
    const reset: [ResourceKind, KubeObject] = [
      KAFKA_KINDS.KafkaOffsetReset,
      {
        metadata: { name: 'reset', namespace: 'ns' },
        spec: { resetStrategy: 'to-earliest' },
        status: { snapshotId: 'snap-1' },
      },
    ];
    const context = world([kb('production-backup'), reset]);
    const byName = await resolveSnapshotRef({ name: 'reset', offsetResetRef: 'reset' }, 'ns', context);
    assert.deepEqual(byName, { snapshotId: 'snap-1', storage, secretsNamespace: 'ns' });
    const byId = await resolveSnapshotRef({ name: 'snap-0', offsetResetRef: 'reset' }, 'ns', context);
    assert.equal(byId.snapshotId, 'snap-0');
    assert.throws(() => snapshotIdOf({ name: 'r' }, { name: 'r' }), /has taken no offset snapshot yet/);
  });
});
