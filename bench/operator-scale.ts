/**
 * Operator scale: `count` scheduled KafkaBackup resources on the real API server, reconciled by one
 * `kafka-backup operator` process, bundled and started as the image starts it (installed as the
 * integration tests install it: its ServiceAccount and RBAC as lib/operator.ts synthesizes them,
 * storage in the environment's MinIO).
 * Measured: the time from the operator's start until every resource is Ready for its generation,
 * the operator's resident memory once settled (and its peak), and the API server's request rate
 * once settled (apiserver_request_total over a quiet minute) beside the same count over a minute
 * before the operator started: the node's kubelet, controller-manager and scheduler renew leases
 * and watch all the while, about 45 requests a minute that vary by a few (a difference of the two
 * is that noise, not the operator's rate).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_KUBE_API_RATE_LIMIT } from '../runtime/operator/kube/port.ts';
import type { CleanupScope } from '../test/env/kube-client.ts';
import { memoryCgroup } from '../test/env/memory-cgroup.ts';
import type { S3Info } from '../test/env/state.ts';
import {
  installOperator,
  kafkaBackup,
  minioSecret,
  minioStorage,
} from '../test/integration/operator/operator-env.ts';
import { startReplica } from '../test/integration/operator/operator-replica.ts';
import { round } from './lib/stats.ts';

export interface OperatorScale {
  readonly resources: number;
  readonly secondsToAllReady: number;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
  /** The API server's requests a minute once the operator settled (every client's). */
  readonly apiRequestsPerMinute: number;
  /** The API server's requests a minute before the operator started (the other clients'). */
  readonly backgroundRequestsPerMinute: number;
  readonly settledMinutes: number;
  /** The operator's client-side limit of API requests, as its flags set it. */
  readonly apiRateLimit: string;
  /** The memory limit the operator ran under (a memory cgroup, as a Pod's limit), if any. */
  readonly memoryLimitMiB?: number;
}

interface Listed {
  items: {
    metadata: { generation?: number };
    status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
  }[];
}

function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** The sum of the API server's apiserver_request_total counters. */
async function apiRequests(admin: Awaited<ReturnType<typeof installOperator>>['admin']): Promise<number> {
  const text = await admin.kubectl(['get', '--raw', '/metrics']);
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('apiserver_request_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export async function operatorScale(
  s3: S3Info,
  bucket: string,
  count: number,
  settleMs: number,
  log: (m: string) => void,
  /** --kube-api-qps (and burst) to run with; undefined: the operator's defaults. */
  kubeApiQps?: string,
  /** Run the operator in a memory cgroup of this many MiB (memoryCgroup). */
  memoryLimitMiB?: number,
): Promise<OperatorScale> {
  const cleanups: (() => unknown)[] = [];
  const scope: CleanupScope = { after: (fn) => cleanups.push(fn) };
  try {
    const { admin, watched, kubeconfig } = await installOperator(scope, { secretNames: ['bench-s3'] });
    await admin.apply([minioSecret(s3, 'bench-s3')], watched);
    log(`operator scale: creating ${count} KafkaBackup resources in ${watched}`);
    const resources = Array.from({ length: count }, (_, i) =>
      kafkaBackup(`scale-${String(i).padStart(4, '0')}`, {
        // Daily, at a minute that is not now: every resource is scheduled, none runs meanwhile.
        schedule: `0 ${(new Date().getUTCMinutes() + 30) % 60} ${(new Date().getUTCHours() + 12) % 24} * * *`,
        storage: minioStorage(s3, bucket, 'bench-s3', `scale-${i}`),
      }),
    );
    for (let i = 0; i < resources.length; i += 100) await admin.apply(resources.slice(i, i + 100), watched);

    // What the API server serves without the operator, over as long as the settled measure below.
    log(
      `operator scale: measuring the API server's requests without the operator (${round(settleMs / 60_000)} min)`,
    );
    const quietFrom = await apiRequests(admin);
    await sleep(settleMs);
    const background = (await apiRequests(admin)) - quietFrom - 2;

    const cgroup =
      memoryLimitMiB === undefined
        ? undefined
        : memoryCgroup(memoryLimitMiB, `kafka-backup-bench-${process.pid}`);
    if (cgroup) cleanups.push(() => cgroup.remove());
    const started = Date.now();
    const operator = startReplica('op-scale', {
      kubeconfig,
      watched,
      ...(cgroup ? { cgroup: cgroup.dir } : {}),
      args: ['--log-level=warn', ...(kubeApiQps ? [`--kube-api-qps=${kubeApiQps}`] : [])],
    });
    try {
      let ready = 0;
      while (ready < count) {
        if (operator.child.exitCode !== null || operator.child.signalCode !== null) {
          const killed = cgroup
            ? `; OOM kills in its ${memoryLimitMiB} MiB cgroup: ${cgroup.oomKills()}`
            : '';
          throw new Error(
            `the operator exited (${operator.child.exitCode ?? operator.child.signalCode}) with ${ready} of ${count} Ready${killed}:\n${operator.output().slice(-3000)}`,
          );
        }
        if (Date.now() - started > 15 * 60_000)
          throw new Error(`only ${ready} of ${count} Ready after 15 minutes`);
        await sleep(1000);
        const list = await admin.getJson<Listed>(['-n', watched, 'kafkabackups.kafka.oso.sh']);
        ready = list.items.filter(
          (kb) =>
            kb.status?.observedGeneration === kb.metadata.generation &&
            kb.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ).length;
      }
      const secondsToAllReady = (Date.now() - started) / 1000;
      log(`operator scale: all ${count} Ready after ${round(secondsToAllReady)} s; settling`);
      const before = await apiRequests(admin);
      await sleep(settleMs);
      const after = await apiRequests(admin);
      const memory = memoryOf(operator.child.pid as number);
      if (cgroup)
        log(`operator scale: the cgroup's peak usage ${round(cgroup.peakMiB())} MiB (page cache included)`);
      return {
        ...(memoryLimitMiB === undefined ? {} : { memoryLimitMiB }),
        resources: count,
        secondsToAllReady: round(secondsToAllReady),
        rssMiB: round(memory.rss / 1024),
        peakRssMiB: round(memory.hwm / 1024),
        // Less the two metrics reads themselves.
        apiRequestsPerMinute: round(((after - before - 2) * 60_000) / settleMs),
        backgroundRequestsPerMinute: round((background * 60_000) / settleMs),
        settledMinutes: round(settleMs / 60_000),
        apiRateLimit:
          kubeApiQps === undefined
            ? `${DEFAULT_KUBE_API_RATE_LIMIT.qps} requests/s, burst ${DEFAULT_KUBE_API_RATE_LIMIT.burst} (the operator's default)`
            : kubeApiQps === '-1'
              ? 'none (--kube-api-qps=-1)'
              : `--kube-api-qps=${kubeApiQps}, burst ${DEFAULT_KUBE_API_RATE_LIMIT.burst}`,
      };
    } finally {
      await operator.stop();
    }
  } finally {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
  }
}
