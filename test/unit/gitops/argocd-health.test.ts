/**
 * The Argo CD health checks of runtime/gitops/argocd/, executed in real Lua against objects the
 * real reconcilers left in each state (operator-states.ts): the exact health and a message that
 * says what happened or what to fix.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { CRDS_DIR, crdFiles } from '../../../lib/validation/crds.ts';
import { KAFKA_API_GROUP, type KubeObject } from '../../../runtime/operator/resource.ts';
import { CUSTOMIZATIONS_DIR } from '../../../scripts/gen-argocd.ts';
import { health, lua51Problems, runArgoLua } from './argo-lua.ts';
import {
  backupStates,
  resetStates,
  restoreStates,
  rollbackStates,
  type States,
  validationStates,
} from './operator-states.ts';

type Expected = Record<string, readonly [status: string, message: RegExp]>;

const GENERATION_LAG = /^Waiting for the operator to observe generation 2 \(status describes generation 1\)$/;

/** Every state the builder produced has an expectation, and every expectation a state. */
async function check(states: States, expected: Expected): Promise<void> {
  assert.deepEqual(Object.keys(states).sort(), Object.keys(expected).sort(), 'states and expectations');
  for (const [name, object] of Object.entries(states)) {
    const [status, message] = expected[name] as Expected[string];
    const h = await health(object);
    assert.equal(h.status, status, `${object.kind} ${name}: ${h.message}`);
    assert.match(h.message, message, `${object.kind} ${name}`);
  }
}

describe('Argo CD health of the operator’s resources', () => {
  test('KafkaBackup', async () => {
    await check(await backupStates(), {
      new: ['Progressing', /^Waiting for the operator to reconcile the backup$/],
      running: ['Progressing', /^run started$/],
      completed: ['Healthy', /^run \S+ stored 10 records \(\d+ bytes\) in \d+s$/],
      edited: ['Progressing', GENERATION_LAG],
      scheduled: ['Healthy', /^next run at 2030-01-02T00:00:00.000Z$/],
      suspended: ['Suspended', /^suspended: no run starts until spec.suspend is false$/],
      invalidSchedule: ['Degraded', /^InvalidSchedule: schedule "0 0 5-2 \* \* \*" .* fix spec.schedule/],
      stalled: ['Degraded', /^InvalidConfig: .*Secret team\/s3-creds does not exist; create it/s],
      retrying: [
        'Degraded',
        /^InvalidConfig: .*Secret team\/s3-creds does not exist.* \(a retry is running\)$/s,
      ],
      failed: ['Degraded', /^IntegrityError: backup object 'orders\/backup.json' is corrupt or truncated/],
    });
  });

  const oneShot = (noun: string, completed: RegExp, unsuccessful: readonly [string, RegExp]): Expected => ({
    new: ['Progressing', new RegExp(`^Waiting for the operator to reconcile the ${noun}$`)],
    awaitingApproval: ['Suspended', /^waiting for approval \(set spec.approval.approved: true\): \S/],
    approved: ['Progressing', GENERATION_LAG],
    running: ['Progressing', /^running: \S/],
    completed: ['Healthy', completed],
    unsuccessful,
    failed: [
      'Degraded',
      /^InvalidConfig: \S+ team\/orders is not valid:\n {2}- consumerGroups: must not be empty$/,
    ],
    deadlineExceeded: [
      'Degraded',
      /^DeadlineExceeded: the run did not finish within activeDeadlineSeconds \(5 s\)/,
    ],
    stalled: ['Degraded', /^ReferenceNotFound: .* does not exist: .*\(retrying in \d+ s\)$/],
  });

  test('KafkaRestore', async () => {
    await check(
      await restoreStates(),
      oneShot('restore', /^restored 10 records \(100 bytes\) into orders-restored$/, [
        'Degraded',
        /^RolledBack: the data was restored \(10 records\) but committing the consumer group offsets failed .* put them back to snapshot snap-/,
      ]),
    );
  });

  test('KafkaOffsetReset', async () => {
    await check(
      await resetStates(),
      oneShot('offset reset', /^reset 2 group\(s\); snapshot before the reset: snap-/, [
        'Degraded',
        /^PartiallyCompleted: 1 group\(s\) failed: app-2: refused$/,
      ]),
    );
  });

  test('KafkaOffsetRollback', async () => {
    await check(
      await rollbackStates(),
      oneShot('offset rollback', /^rolled 1 group\(s\) back to snapshot snap-\S+, verified$/, [
        'Degraded',
        /^KafkaRejected: 1 group\(s\) failed: app-2: refused$/,
      ]),
    );
  });

  test('KafkaBackupValidation', async () => {
    await check(await validationStates(), {
      new: ['Progressing', /^Waiting for the operator to reconcile the validation$/],
      running: ['Progressing', /^validating backup nightly$/],
      completed: ['Healthy', /^backup nightly passed: 3 passed, 0 failed, 0 warnings, 3 skipped; report /],
      edited: ['Progressing', GENERATION_LAG],
      failed: ['Degraded', /^ChecksFailed: checks failed: segment-integrity \(.*nightly\/segments\/orders\//],
      stalled: ['Degraded', /^BackupNotFound: KafkaBackup team\/later \(backupRef\) does not exist/],
      scheduled: ['Healthy', /^next run at 2030-01-01T07:00:00.000Z$/],
      suspended: ['Suspended', /^suspended: no scheduled run starts until spec.suspend is false$/],
      invalidSchedule: ['Degraded', /^InvalidSchedule: schedule "0 0 5-2 \* \* \*" .* fix spec.schedule/],
    });
  });
});

describe('the Lua files', () => {
  const luaFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? luaFiles(join(dir, d.name)) : d.name.endsWith('.lua') ? [join(dir, d.name)] : [],
    );
  let crdKinds: string[] = [];
  before(() => {
    crdKinds = crdFiles().map((file) => {
      const crd = parse(readFileSync(join(CRDS_DIR as string, file), 'utf8'));
      assert.equal(crd.spec.group, KAFKA_API_GROUP, file);
      return crd.spec.names.kind as string;
    });
  });

  test('every kind in crds/ has a health.lua, and nothing else has one', () => {
    assert.ok(crdKinds.length >= 5);
    assert.deepEqual(readdirSync(CUSTOMIZATIONS_DIR).sort(), [KAFKA_API_GROUP]);
    const withHealth = readdirSync(join(CUSTOMIZATIONS_DIR, KAFKA_API_GROUP))
      .filter((kind) => readdirSync(join(CUSTOMIZATIONS_DIR, KAFKA_API_GROUP, kind)).includes('health.lua'))
      .sort();
    assert.deepEqual(withHealth, [...crdKinds].sort());
  });

  test('a status without conditions, or a phase it does not know, is Progressing, never Healthy', async () => {
    for (const kind of crdKinds) {
      const object = (status: Record<string, unknown>): KubeObject => ({
        kind,
        metadata: { name: 'x', generation: 1 },
        status: { observedGeneration: 1, ...status },
      });
      const bare = await health(object({ phase: 'Pending' }));
      assert.equal(bare.status, 'Progressing', kind);
      assert.match(bare.message, /^Waiting for the operator to reconcile the /);
      assert.deepEqual(await health(object({ phase: 'SomethingNew', conditions: [] })), {
        status: 'Progressing',
        message: 'Waiting for the operator to report readiness',
      });
    }
  });

  test('they use nothing gopher-lua (Lua 5.1) or Argo CD’s sandbox lacks', () => {
    const files = luaFiles(CUSTOMIZATIONS_DIR);
    assert.ok(files.length >= 7);
    for (const file of files) {
      assert.deepEqual(lua51Problems(readFileSync(file, 'utf8')), [], relative(CUSTOMIZATIONS_DIR, file));
    }
    // The check itself finds what it looks for.
    assert.deepEqual(lua51Problems('local s = ("x"):upper() -- string.format'), [
      'a method call (strings have no methods without the string library)',
    ]);
    assert.equal(lua51Problems('local a = 7 // 2; goto done; local b <const> = 1').length, 3);
    assert.deepEqual(lua51Problems('if a ~= b then return "a // b & c" end'), []);
  });

  test('the sandbox is as small as Argo CD’s: no string library, no string methods, os.time and os.date only', async () => {
    const probe = `return {
      s = type(string), m = type(math), io = type(io),
      t = type(os.time()), d = type(os.date("!%Y")), x = type(os.execute),
      method = pcall(function() return ("x"):upper() end),
    }`;
    assert.deepEqual(await runArgoLua(probe, {}), {
      s: 'nil',
      m: 'nil',
      io: 'nil',
      t: 'number',
      d: 'string',
      x: 'nil',
      method: false,
    });
  });
});
