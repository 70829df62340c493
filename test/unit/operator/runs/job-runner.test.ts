import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify } from '../../../../runtime/app/errors.ts';
import { silentLogger } from '../../../../runtime/log.ts';
import { KubeApiError } from '../../../../runtime/operator/errors.ts';
import { jobNameOf } from '../../../../runtime/operator/runs/job-manifest.ts';
import { JobRunner } from '../../../../runtime/operator/runs/job-runner.ts';
import type { RunRequest } from '../../../../runtime/operator/runs/run-request.ts';
import { encodeReport } from '../../../../runtime/operator/runs/termination-message.ts';
import { FakeKube } from '../fake-kube.ts';
import { eventually } from '../wait.ts';

const owner = {
  apiVersion: 'kafka.oso.sh/v1alpha1',
  kind: 'KafkaRestore',
  namespace: 'ns',
  name: 'r1',
  uid: 'uid-r1',
};
const request = (runId = 'run-1', extra: Partial<RunRequest> = {}): RunRequest => ({
  kind: 'restore',
  owner,
  runId,
  spec: { kafkaCluster: { saslSecret: { name: 'sasl' } } },
  secrets: [{ namespace: 'ns', name: 'sasl' }],
  ...extra,
});
const KEY = 'KafkaRestore/ns/r1';
const never = async (): Promise<never> => {
  throw new Error('the in-process work must not run');
};

function setup(kube = new FakeKube()) {
  const changes: string[] = [];
  const runner = new JobRunner({
    jobs: kube,
    settings: { image: 'img:1' },
    onChange: (k) => changes.push(k),
    log: silentLogger,
    pollMs: 5,
  });
  return { kube, runner, changes };
}

function finish(
  kube: FakeKube,
  name: string,
  type: 'Complete' | 'Failed',
  message: string,
  exitCode: number,
) {
  kube.addPod('ns', name, {
    name: `${name}-abcde`,
    conditions: [],
    terminated: { exitCode, message, finishedAt: '2026-01-01T00:01:00Z' },
  });
  kube.setJobStatus(
    { namespace: 'ns', name },
    { conditions: [{ type, status: 'True', reason: type === 'Failed' ? 'PodFailurePolicy' : undefined }] },
  );
}

describe('JobRunner', () => {
  test('start creates one Job named for the run; its report becomes the snapshot’s result', async () => {
    const { kube, runner, changes } = setup();
    const started = runner.start(KEY, 'run-1', never, request());
    const name = jobNameOf(request());
    assert.equal(started.state, 'running');
    assert.equal(started.where, `Job ns/${name}`);
    assert.equal(runner.start(KEY, 'run-1', never, request()), started, 'one run per key');
    await eventually('the Job exists', () => kube.jobs.has(`ns/${name}`));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(runner.get(KEY)?.state, 'running');
    finish(kube, name, 'Complete', encodeReport({ v: 1, ok: true, result: { records: 7 } }), 0);
    await eventually('the run ended', () => runner.get(KEY)?.state !== 'running');
    const ended = runner.get(KEY);
    assert.equal(ended?.state, 'succeeded');
    assert.deepEqual(ended?.result, { records: 7 });
    assert.deepEqual(ended?.endedAt, new Date('2026-01-01T00:01:00Z'));
    assert.deepEqual(changes, [KEY]);
    runner.forget(KEY);
    assert.equal(runner.get(KEY), undefined);
    assert.equal(kube.jobs.size, 1, 'the finished Job stays for its TTL');
  });

  test('a failed Job gives the CLI’s classified error', async () => {
    const { kube, runner } = setup();
    runner.start(KEY, 'run-1', never, request());
    const name = jobNameOf(request());
    await eventually('the Job exists', () => kube.jobs.has(`ns/${name}`));
    const error = {
      class: 'terminal' as const,
      reason: 'InvalidConfig' as const,
      exitCode: 2,
      message: 'Secret sasl has no key password',
    };
    finish(kube, name, 'Failed', encodeReport({ v: 1, ok: false, error }), 2);
    await eventually('the run ended', () => runner.get(KEY)?.state === 'failed');
    const c = classify(runner.get(KEY)?.error);
    assert.deepEqual(c, error);
  });

  test('abort deletes the Job (Background) and ends the run as interrupted', async () => {
    const { kube, runner } = setup();
    runner.start(KEY, 'run-1', never, request());
    const name = jobNameOf(request());
    await eventually('the Job exists', () => kube.jobs.has(`ns/${name}`));
    await runner.abort(KEY);
    assert.deepEqual(kube.deletedJobs, [{ name, propagationPolicy: 'Background' }]);
    assert.equal(runner.get(KEY)?.state, 'failed');
    assert.equal(classify(runner.get(KEY)?.error).class, 'retriable');
  });

  test('stopAll leaves Jobs running; a new runner (the next leader) adopts the running Job instead of creating another', async () => {
    const { kube, runner } = setup();
    runner.start(KEY, 'run-1', never, request());
    const name = jobNameOf(request());
    await eventually('the Job exists', () => kube.jobs.has(`ns/${name}`));
    await runner.stopAll();
    assert.equal(runner.size, 0);
    assert.deepEqual(kube.deletedJobs, []);
    assert.ok(kube.jobs.has(`ns/${name}`));

    const next = setup(kube);
    // A resumed run may carry another id (a backup resumes with a new one): the running Job is still adopted.
    const adopted = next.runner.start(KEY, 'resumed-run', never, request('resumed-run'));
    await eventually('adopted', () => next.runner.get(KEY)?.where === `Job ns/${name}`);
    assert.equal(adopted.state, 'running');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(kube.jobs.size, 1, 'no second Job');
    finish(kube, name, 'Complete', encodeReport({ v: 1, ok: true, result: { records: 3 } }), 0);
    await eventually('the adopted run ended', () => next.runner.get(KEY)?.state === 'succeeded');
    assert.deepEqual(next.runner.get(KEY)?.result, { records: 3 });
  });

  test('a finished Job of the same run is adopted for its result (the operator died before recording it)', async () => {
    const { kube, runner } = setup();
    runner.start(KEY, 'run-1', never, request());
    const name = jobNameOf(request());
    await eventually('the Job exists', () => kube.jobs.has(`ns/${name}`));
    await runner.stopAll();
    finish(kube, name, 'Complete', encodeReport({ v: 1, ok: true, result: { records: 5 } }), 0);
    const next = setup(kube);
    next.runner.start(KEY, 'run-1', never, request());
    await eventually('ended', () => next.runner.get(KEY)?.state === 'succeeded');
    assert.deepEqual(next.runner.get(KEY)?.result, { records: 5 });
    assert.equal(kube.jobs.size, 1);
  });

  test('a resumed run under a new id adopts the Job that ended while no leader followed it (resumeOf)', async () => {
    const { kube, runner } = setup();
    const since = new Date(Date.now() - 60_000).toISOString();
    runner.start(KEY, 'run-1', never, request());
    const name = jobNameOf(request());
    await eventually('the Job exists', () => kube.jobs.has(`ns/${name}`));
    await runner.stopAll();
    finish(kube, name, 'Complete', encodeReport({ v: 1, ok: true, result: { records: 5 } }), 0);
    // The next leader resumes what status shows as running since `since`, under a new run id.
    const next = setup(kube);
    next.runner.start(KEY, 'run-2', never, request('run-2', { resumeOf: since }));
    await eventually('ended', () => next.runner.get(KEY)?.state === 'succeeded');
    assert.deepEqual(next.runner.get(KEY)?.result, { records: 5 });
    assert.equal(kube.jobs.size, 1, 'no second Job: the backup does not run twice');
    // A run that is not a resumption starts its own Job, whatever finished before it.
    next.runner.forget(KEY);
    next.runner.start(KEY, 'run-3', never, request('run-3'));
    await eventually('a new Job', () => kube.jobs.size === 2);
    // Nor does a resumption adopt a finished Job older than the run it resumes.
    await next.runner.stopAll();
    finish(
      kube,
      jobNameOf(request('run-3')),
      'Complete',
      encodeReport({ v: 1, ok: true, result: { records: 1 } }),
      0,
    );
    const third = setup(kube);
    const later = new Date(Date.now() + 60_000).toISOString();
    third.runner.start(KEY, 'run-4', never, request('run-4', { resumeOf: later }));
    await eventually('yet another Job', () => kube.jobs.size === 3);
    await third.runner.stopAll();
  });

  test('a Job deleted from outside ends the run as interrupted (retriable), not as a success', async () => {
    const { kube, runner } = setup();
    runner.start(KEY, 'run-1', never, request());
    const name = jobNameOf(request());
    await eventually('the Job exists', () => kube.jobs.has(`ns/${name}`));
    kube.jobs.delete(`ns/${name}`);
    await eventually('ended', () => runner.get(KEY)?.state === 'failed');
    assert.match(classify(runner.get(KEY)?.error).message, /deleted before it reported/);
  });

  test('Secrets of another namespace, or no request: the run stays in the operator process', async () => {
    const { kube, runner } = setup();
    const cross = request('run-1', { secrets: [{ namespace: 'backups', name: 'creds' }] });
    runner.start(KEY, 'run-1', async () => 'in-process', cross);
    await eventually('done', () => runner.get(KEY)?.state === 'succeeded');
    assert.equal(runner.get(KEY)?.result, 'in-process');
    assert.equal(runner.get(KEY)?.where, undefined);
    assert.equal(kube.jobs.size, 0);
    runner.forget(KEY);
    runner.start('KafkaBackup/ns/b', 'x', async () => 1);
    await eventually('done', () => runner.get('KafkaBackup/ns/b')?.state === 'succeeded');
    assert.equal(kube.jobs.size, 0);
  });

  test('a Job the API refuses fails the run with what to check; a transient failure is retried', async () => {
    const refusing = new FakeKube();
    refusing.createJob = async () => {
      throw new KubeApiError(403, 'jobs.batch is forbidden', 'Forbidden');
    };
    const { runner } = setup(refusing);
    runner.start(KEY, 'run-1', never, request());
    await eventually('failed', () => runner.get(KEY)?.state === 'failed');
    const c = classify(runner.get(KEY)?.error);
    assert.equal(c.reason, 'InvalidConfig');
    assert.match(c.message, /cannot create Job ns\/kr-r1-.*forbidden.*RBAC/);

    const flaky = new FakeKube();
    const create = flaky.createJob.bind(flaky);
    let calls = 0;
    flaky.createJob = async (job) => {
      if (++calls < 3) throw new KubeApiError(503, 'unavailable');
      return create(job);
    };
    const second = setup(flaky);
    second.runner.start(KEY, 'run-1', never, request());
    await eventually('created after retries', () => flaky.jobs.size === 1);
    assert.equal(second.runner.get(KEY)?.state, 'running');
    await second.runner.stopAll();
  });
});
