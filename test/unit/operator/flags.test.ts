import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Chart } from 'cdk8s';
import { InstallMode, KafkaBackupOperator } from '../../../lib/index.ts';
import { FlagError, parseDuration, parseOperatorFlags } from '../../../runtime/operator/flags.ts';
import { parseBindAddress } from '../../../runtime/operator/http-endpoints.ts';
import { operatorMain } from '../../../runtime/operator/main.ts';

/** The operator container's flags exactly as lib/operator.ts synthesizes them (after the `operator` subcommand). */
function synthesizedArgs(installMode: InstallMode): string[] {
  const app = new App();
  new KafkaBackupOperator(new Chart(app, 'c'), 'Operator', {
    namespace: 'ops',
    createNamespace: false,
    installMode,
  });
  const deployment = app.charts
    .flatMap((c) => c.toJson())
    .find((m: { kind: string }) => m.kind === 'Deployment') as {
    spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
  };
  const [command, ...flags] = deployment.spec.template.spec.containers[0]?.args ?? [];
  assert.equal(command, 'operator', "args replaces the image's command: the subcommand comes first");
  return flags;
}

describe('operator flags', () => {
  test('parse exactly what lib/operator.ts passes (namespaced install)', () => {
    const flags = parseOperatorFlags(synthesizedArgs(InstallMode.namespaced('team-a', 'team-b')), {});
    assert.equal(flags.metricsBindAddress, ':8080');
    assert.equal(flags.healthProbeBindAddress, ':8081');
    assert.equal(flags.leaderElect, true);
    assert.equal(flags.leaderElectionId, 'kafka-backup-operator-leader');
    assert.equal(flags.leaderElectionNamespace, 'ops');
    assert.equal(flags.logLevel, 'info');
    assert.deepEqual(flags.watchNamespaces, ['team-a', 'team-b']);
  });

  test('cluster-wide install: no --watch-namespaces means all namespaces', () => {
    assert.deepEqual(parseOperatorFlags(synthesizedArgs(InstallMode.clusterWide()), {}).watchNamespaces, []);
  });

  test('defaults: client-go lease timings, leader election off, the Pod namespace for the Lease', () => {
    const flags = parseOperatorFlags([], { POD_NAMESPACE: 'from-env' });
    assert.equal(flags.leaderElect, false);
    assert.equal(flags.leaderElectionNamespace, 'from-env');
    assert.deepEqual(
      [flags.leaseDurationMs, flags.renewDeadlineMs, flags.retryPeriodMs],
      [15_000, 10_000, 2000],
    );
    assert.equal(flags.syncPeriodMs, 300_000);
    assert.deepEqual(flags.kubeApiRateLimit, { qps: 50, burst: 100 });
  });

  test('--kube-api-qps and --kube-api-burst set the client-side limit; a qps of -1 removes it', () => {
    assert.deepEqual(
      parseOperatorFlags(['--kube-api-qps=12.5', '--kube-api-burst=20'], {}).kubeApiRateLimit,
      {
        qps: 12.5,
        burst: 20,
      },
    );
    assert.equal(parseOperatorFlags(['--kube-api-qps=-1'], {}).kubeApiRateLimit, undefined);
    for (const bad of ['0', '-2', 'fast', '']) {
      assert.throws(
        () => parseOperatorFlags([`--kube-api-qps=${bad}`], {}),
        /--kube-api-qps: expected a positive number or -1/,
      );
    }
    assert.throws(
      () => parseOperatorFlags(['--kube-api-burst=0'], {}),
      /--kube-api-burst: expected a whole number/,
    );
  });

  test('a bare --leader-elect means true; --watch-namespaces tolerates spaces and repeats', () => {
    const flags = parseOperatorFlags(
      ['--leader-elect', '--watch-namespaces', ' a, b,a,', '--leader-election-namespace=x'],
      {},
    );
    assert.equal(flags.leaderElect, true);
    assert.deepEqual(flags.watchNamespaces, ['a', 'b']);
  });

  test('errors name the flag', () => {
    assert.throws(() => parseOperatorFlags(['--log-level=loud'], {}), /--log-level: expected one of/);
    assert.throws(
      () => parseOperatorFlags(['--leader-elect=maybe'], {}),
      /--leader-elect: expected true or false/,
    );
    assert.throws(() => parseOperatorFlags(['--no-such-flag'], {}), FlagError);
    assert.throws(
      () => parseOperatorFlags(['--metrics-bind-address=8080'], {}),
      /--metrics-bind-address: expected \[host\]:port/,
    );
    assert.throws(() => parseOperatorFlags(['--leader-elect'], {}), /pass --leader-election-namespace/);
    assert.throws(
      () =>
        parseOperatorFlags(
          ['--leader-elect', '--leader-election-namespace=x', '--leader-elect-renew-deadline=20s'],
          {},
        ),
      /lease duration must exceed renew deadline/,
    );
  });

  test('durations', () => {
    assert.equal(parseDuration('--x', '500ms'), 500);
    assert.equal(parseDuration('--x', '1.5s'), 1500);
    assert.equal(parseDuration('--x', '5m'), 300_000);
    assert.equal(parseDuration('--x', '0'), 0);
    assert.throws(() => parseDuration('--x', '5'), /--x: expected a duration/);
  });

  test('bind addresses as controller-runtime reads them; 0 disables', () => {
    assert.deepEqual(parseBindAddress('--m', ':8080'), { host: undefined, port: 8080 });
    assert.deepEqual(parseBindAddress('--m', '127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseBindAddress('--m', '[::1]:9443'), { host: '::1', port: 9443 });
    assert.equal(parseBindAddress('--m', '0'), undefined);
    assert.throws(() => parseBindAddress('--m', '8080'), /--m: expected \[host\]:port/);
    assert.throws(() => parseBindAddress('--m', ':99999'), /--m/);
  });

  test('operatorMain: a usage error exits 2 before touching Kubernetes; --help exits 0', async () => {
    assert.equal(await operatorMain(['--log-level=loud'], { env: {} }), 2);
    assert.equal(await operatorMain(['--help'], { env: {} }), 0);
  });
});
