/**
 * The Helm chart (runtime/chart/kafka-backup-operator), rendered by the real helm: it lints, its
 * CRDs are crds/ (plus the keep annotation), and its RBAC, Deployment, PDB, Service, ServiceMonitor
 * and NetworkPolicy are those of the KafkaBackupOperator construct synthesized with the same
 * settings, so the two installs cannot drift apart. values.schema.json refuses bad values, naming
 * them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import { parse } from 'yaml';
import {
  DEFAULT_OPERATOR_IMAGE,
  InstallMode,
  KafkaBackupOperator,
  type KafkaBackupOperatorProps,
  OperatorRunner,
} from '../../../lib/index.ts';
import { parseOperatorFlags } from '../../../runtime/operator/flags.ts';
import {
  CONTAINER_FIELDS,
  POD_FIELDS,
  parseJobTemplate,
} from '../../../runtime/operator/runs/job-template.ts';
import { CRD_DIR, KEEP_ANNOTATION } from '../../../scripts/gen-crds.ts';
import { CHART_DIR, lint, type Manifest, render, type Values } from './helm-chart.ts';

const NAMESPACE = 'ops';

function synth(props: KafkaBackupOperatorProps): Manifest[] {
  const chart = Testing.chart();
  new KafkaBackupOperator(chart, 'Operator', { namespace: NAMESPACE, createNamespace: false, ...props });
  return Testing.synth(chart) as Manifest[];
}

const key = (o: Manifest) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byKey = (objs: Manifest[]) => new Map(objs.map((o) => [key(o), o]));
const only = (objs: Manifest[], kind: string): Manifest => {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as Manifest;
};

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };
/** What a list of rules allows, one "group resource verb name" line per permission. */
function permissions(rules: Rule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    const names = r.resourceNames?.length ? r.resourceNames : ['*'];
    for (const g of r.apiGroups ?? [])
      for (const res of r.resources ?? [])
        for (const v of r.verbs) for (const n of names) out.add(`${g || 'core'} ${res} ${v} ${n}`);
  }
  return [...out].sort();
}
/** A binding's meaning: its role and subjects (cdk8s-plus writes `apiGroup: ""` on subjects). */
const binding = (b: Manifest) => ({
  roleRef: b.roleRef,
  subjects: b.subjects.map((s: Record<string, string>) => ({
    kind: s.kind,
    name: s.name,
    namespace: s.namespace,
  })),
});

/** Value sets of the chart and the construct props that mean the same. */
const JOB_TEMPLATE = {
  metadata: { labels: { team: 'data' } },
  spec: {
    nodeSelector: { pool: 'batch' },
    tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
    containers: [{ name: 'run', resources: { limits: { memory: '1Gi' } } }],
  },
};

const EQUIVALENT: Array<{ name: string; values: Values; props: KafkaBackupOperatorProps }> = [
  { name: 'defaults', values: {}, props: {} },
  {
    name: 'runs as Jobs with a ServiceAccount and a pod template',
    values: {
      runner: { mode: 'job', job: { serviceAccountName: 'backup-runs', podTemplate: JOB_TEMPLATE } },
    },
    props: { runner: OperatorRunner.jobs({ serviceAccountName: 'backup-runs', podTemplate: JOB_TEMPLATE }) },
  },
  {
    name: 'runs as Jobs of another image, no template',
    values: { runner: { mode: 'job', job: { image: 'registry.local/kb-runs:1' } } },
    props: { runner: OperatorRunner.jobs({ image: 'registry.local/kb-runs:1' }) },
  },
  {
    name: 'cluster-wide, named Secrets, three replicas, another image, ServiceMonitor',
    values: {
      replicaCount: 3,
      rbac: { secretNames: ['s3-credentials', 'kafka-user'] },
      image: { repository: 'registry.local/kb', tag: 'dev', pullPolicy: 'IfNotPresent' },
      serviceMonitor: { enabled: true, interval: '30s' },
    },
    props: {
      replicas: 3,
      secretNames: ['s3-credentials', 'kafka-user'],
      image: 'registry.local/kb:dev',
      serviceMonitor: true,
    },
  },
  {
    name: 'namespaced, one replica, debug, resources, scrape interval, no NetworkPolicy',
    values: {
      watchNamespaces: ['team-b', 'team-a'],
      rbac: { secretNames: ['s3-credentials'] },
      replicaCount: 1,
      logLevel: 'debug',
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '1024Mi' } },
      serviceMonitor: { enabled: true, interval: '45s' },
      networkPolicy: { enabled: false },
    },
    props: {
      installMode: InstallMode.namespaced('team-b', 'team-a'),
      secretNames: ['s3-credentials'],
      replicas: 1,
      logLevel: 'debug',
      resources: {
        cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(2) },
        memory: { request: Size.mebibytes(256), limit: Size.mebibytes(1024) },
      },
      serviceMonitor: true,
      scrapeInterval: Duration.seconds(45),
      networkPolicy: false,
    },
  },
];

describe('the Helm chart', () => {
  test('helm lint --strict passes with the defaults and with each mode', async () => {
    for (const values of [
      {},
      ...EQUIVALENT.map((c) => c.values),
      { crds: { install: false }, serviceAccount: { create: false, name: 'existing' } },
    ]) {
      assert.match(await lint(values), /1 chart\(s\) linted, 0 chart\(s\) failed/, JSON.stringify(values));
    }
  });

  test('the CRDs are crds/ with helm.sh/resource-policy: keep, and only with crds.install', async () => {
    const crds = (await render()).filter((o) => o.kind === 'CustomResourceDefinition');
    const files = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'));
    assert.equal(crds.length, files.length);
    for (const file of files) {
      const expected = parse(readFileSync(join(CRD_DIR, file), 'utf8')) as Manifest;
      const rendered = crds.find((c) => c.metadata.name === expected.metadata.name);
      assert.ok(rendered, `the chart renders ${expected.metadata.name}`);
      const { annotations, ...metadata } = rendered.metadata;
      assert.deepEqual(annotations, KEEP_ANNOTATION);
      assert.deepEqual({ ...rendered, metadata }, expected, `${file} as in crds/`);
    }
    const without = await render({ crds: { install: false } });
    assert.equal(without.filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
  });

  for (const { name, values, props } of EQUIVALENT) {
    test(`the same install as KafkaBackupOperator: ${name}`, async () => {
      const chart = (await render(values, { namespace: NAMESPACE })).filter(
        (o) => o.kind !== 'CustomResourceDefinition',
      );
      const construct = synth(props);
      // Same objects, same names: release "kafka-backup-operator" names them as the construct does.
      assert.deepEqual([...byKey(chart).keys()].sort(), [...byKey(construct).keys()].sort());
      const theirs = byKey(construct);
      for (const ours of chart) {
        const other = theirs.get(key(ours)) as Manifest;
        const what = key(ours);
        switch (ours.kind) {
          case 'ClusterRole':
          case 'Role':
            assert.deepEqual(permissions(ours.rules), permissions(other.rules), what);
            break;
          case 'ClusterRoleBinding':
          case 'RoleBinding':
            assert.deepEqual(binding(ours), binding(other), what);
            break;
          case 'ServiceAccount':
            assert.equal(ours.automountServiceAccountToken, other.automountServiceAccountToken, what);
            break;
          case 'Deployment': {
            assert.equal(ours.spec.replicas, other.spec.replicas);
            const [pod, theirPod] = [ours.spec.template.spec, other.spec.template.spec];
            // Container: image, args, env, ports, probes, resources, securityContext, mounts.
            assert.deepEqual(pod.containers, theirPod.containers);
            for (const field of [
              'securityContext',
              'volumes',
              'serviceAccountName',
              'automountServiceAccountToken',
              'terminationGracePeriodSeconds',
            ]) {
              assert.deepEqual(pod[field], theirPod[field], `pod ${field}`);
            }
            break;
          }
          case 'Service':
            assert.deepEqual(ours.spec.ports, other.spec.ports, what);
            break;
          case 'ConfigMap':
            // The job template: the same document (the construct writes it as JSON, which is YAML).
            assert.deepEqual(
              parse(ours.data['job-template.yaml']),
              parse(other.data['job-template.yaml']),
              what,
            );
            break;
          case 'PodDisruptionBudget':
          case 'NetworkPolicy':
          case 'ServiceMonitor':
            assert.deepEqual(ours.spec, other.spec, what);
            break;
          default:
            assert.fail(`no comparison for ${what}`);
        }
      }
    });
  }

  test('selectors use the construct labels, and they select the Pods', async () => {
    const objs = await render();
    const selector = {
      'app.kubernetes.io/name': 'kafka-backup-operator',
      'app.kubernetes.io/component': 'operator',
    };
    const deployment = only(objs, 'Deployment');
    assert.deepEqual(deployment.spec.selector.matchLabels, selector);
    assert.deepEqual(only(objs, 'Service').spec.selector, selector);
    const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
    for (const [k, v] of Object.entries(selector)) assert.equal(podLabels[k], v);
    assert.equal(podLabels['app.kubernetes.io/instance'], 'kafka-backup-operator');
  });

  test('the Deployment args parse as the operator flags, extra flags included', async () => {
    const args = async (values: Values) => {
      const all = only(await render(values), 'Deployment').spec.template.spec.containers[0].args as string[];
      assert.equal(all[0], 'operator', 'the CLI subcommand comes first');
      return all.slice(1);
    };
    const env = { POD_NAMESPACE: 'kafka-backup-system' };
    const defaults = parseOperatorFlags(await args({}), env);
    assert.equal(defaults.leaderElect, true);
    assert.equal(defaults.leaderElectionNamespace, 'kafka-backup-system');
    assert.deepEqual(defaults.watchNamespaces, []);
    assert.equal(defaults.syncPeriodMs, 5 * 60_000, "the operator's default");
    assert.equal(defaults.maxConcurrentReconciles, 4, "the operator's default");
    const tuned = parseOperatorFlags(await args({ syncPeriod: '10m', maxConcurrentReconciles: 8 }), env);
    assert.equal(tuned.syncPeriodMs, 10 * 60_000);
    assert.equal(tuned.maxConcurrentReconciles, 8);
    assert.equal(parseOperatorFlags(await args({ syncPeriod: 0 }), env).syncPeriodMs, 0);
    assert.deepEqual(defaults.kubeApiRateLimit, { qps: 50, burst: 100 }, "the operator's default");
    const faster = parseOperatorFlags(await args({ kubeApiQps: 200, kubeApiBurst: 400 }), env);
    assert.deepEqual(faster.kubeApiRateLimit, { qps: 200, burst: 400 });
    assert.equal(parseOperatorFlags(await args({ kubeApiQps: -1 }), env).kubeApiRateLimit, undefined);
  });

  test('pod placement, pull secrets, annotations and labels reach the Pod', async () => {
    const values = {
      imagePullSecrets: [{ name: 'my-registry' }],
      podAnnotations: { 'example.com/team': 'data' },
      podLabels: { 'example.com/tier': 'ops' },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
      image: { repository: 'r.local/kb', tag: '', pullPolicy: 'Always' },
    };
    const deployment = only(await render(values), 'Deployment');
    const { metadata, spec } = deployment.spec.template;
    assert.deepEqual(spec.imagePullSecrets, values.imagePullSecrets);
    assert.deepEqual(metadata.annotations, values.podAnnotations);
    assert.equal(metadata.labels['example.com/tier'], 'ops');
    assert.deepEqual(spec.nodeSelector, values.nodeSelector);
    assert.deepEqual(spec.tolerations, values.tolerations);
    assert.deepEqual(spec.affinity, values.affinity);
    assert.equal(spec.containers[0].image, 'r.local/kb:0.1.0', 'the tag defaults to appVersion');
    assert.equal(spec.containers[0].imagePullPolicy, 'Always');
  });

  test("hostNetwork and extraEnv reach the Pod, after the chart's own variables", async () => {
    const plain = only(await render({}), 'Deployment').spec.template.spec;
    assert.equal(plain.hostNetwork, undefined);
    assert.equal(plain.dnsPolicy, undefined);
    const extraEnv = [
      { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/ssl/private-ca.pem' },
      { name: 'HTTPS_PROXY', valueFrom: { secretKeyRef: { name: 'proxy', key: 'url' } } },
    ];
    const spec = only(await render({ hostNetwork: true, extraEnv }), 'Deployment').spec.template.spec;
    assert.equal(spec.hostNetwork, true);
    assert.equal(spec.dnsPolicy, 'ClusterFirstWithHostNet', 'Services still resolve from the host network');
    assert.deepEqual(
      spec.containers[0].env.map((e: { name: string }) => e.name),
      ['POD_NAMESPACE', 'POD_NAME', 'NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY'],
    );
    assert.deepEqual(spec.containers[0].env.slice(2), extraEnv);
  });

  test('runner.mode=job: the flags parse as the operator reads them, and the schema knows the template fields', async () => {
    const args = async (values: Values) =>
      (only(await render(values), 'Deployment').spec.template.spec.containers[0].args as string[]).slice(1);
    const inProcess = parseOperatorFlags(await args({}), { POD_NAMESPACE: 'ops' });
    assert.deepEqual(inProcess.runner, { mode: 'in-process' });
    const objs = await render({ runner: { mode: 'job', job: { podTemplate: JOB_TEMPLATE } } });
    const flags = (only(objs, 'Deployment').spec.template.spec.containers[0].args as string[]).slice(1);
    assert.ok(flags.includes('--runner=job'));
    assert.ok(
      flags.includes('--job-image=ghcr.io/oso/kafka-backup-k8s:0.1.0'),
      'the operator image by default',
    );
    // The mounted file is what --job-template reads: parse it with the operator's own parser.
    const template = parseJobTemplate(only(objs, 'ConfigMap').data['job-template.yaml'], 'chart');
    assert.deepEqual(template.spec?.nodeSelector, { pool: 'batch' });
    assert.deepEqual(template.container?.resources, { limits: { memory: '1Gi' } });
    // The schema lists exactly the fields the operator takes.
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));
    const spec = schema.properties.runner.properties.job.properties.podTemplate.properties.spec.properties;
    assert.deepEqual(Object.keys(spec).sort(), [...POD_FIELDS, 'containers'].sort());
    assert.deepEqual(
      Object.keys(spec.containers.items.properties).sort(),
      ['name', ...CONTAINER_FIELDS].sort(),
    );
  });

  test('ports move the flags, container ports, probes, Service target and NetworkPolicy together', async () => {
    const objs = await render({ ports: { metrics: 18080, health: 18081 } });
    const container = only(objs, 'Deployment').spec.template.spec.containers[0];
    const flags = parseOperatorFlags(container.args.slice(1), { POD_NAMESPACE: 'ops' });
    assert.equal(flags.metricsBindAddress, ':18080');
    assert.equal(flags.healthProbeBindAddress, ':18081');
    assert.deepEqual(
      container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
      [
        ['metrics', 18080],
        ['health', 18081],
      ],
    );
    assert.equal(container.livenessProbe.httpGet.port, 18081);
    assert.equal(container.readinessProbe.httpGet.port, 18081);
    const service = only(objs, 'Service').spec.ports[0];
    assert.deepEqual([service.port, service.targetPort], [8080, 18080], 'scrapers keep the Service port');
    assert.equal(only(objs, 'NetworkPolicy').spec.ingress[0].ports[0].port, 18080);
  });

  test('the Grafana dashboard ConfigMap holds the tested dashboard JSON, only when enabled', async () => {
    assert.equal((await render({})).filter((o) => o.kind === 'ConfigMap').length, 0);
    const cm = only(
      await render({ grafanaDashboard: { enabled: true, annotations: { grafana_folder: 'Kafka' } } }),
      'ConfigMap',
    );
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
    assert.equal((cm.metadata.annotations as Record<string, string>).grafana_folder, 'Kafka');
    const file = readFileSync(join(CHART_DIR, 'dashboards/kafka-backup-operator.json'), 'utf8');
    assert.deepEqual(JSON.parse(cm.data['kafka-backup-operator.json']), JSON.parse(file));
  });

  test('an existing ServiceAccount, a full name override, ServiceMonitor labels', async () => {
    const objs = await render(
      {
        serviceAccount: { create: false, name: 'platform-operator' },
        fullnameOverride: 'kbo',
        serviceMonitor: { enabled: true, interval: '1m', labels: { release: 'prometheus' } },
      },
      { release: 'other' },
    );
    assert.equal(objs.filter((o) => o.kind === 'ServiceAccount').length, 0);
    assert.equal(only(objs, 'Deployment').spec.template.spec.serviceAccountName, 'platform-operator');
    for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
      assert.equal(b.subjects[0].name, 'platform-operator', key(b));
      assert.ok(b.metadata.name.startsWith('kbo'), key(b));
    }
    const sm = only(objs, 'ServiceMonitor');
    assert.equal(sm.metadata.labels?.release, 'prometheus');
    assert.equal(sm.spec.endpoints[0].interval, '1m');
    const args = only(objs, 'Deployment').spec.template.spec.containers[0].args as string[];
    assert.ok(args.includes('--leader-election-id=kbo-leader'));
  });

  test('another release name prefixes every object, so releases never collide cluster-wide', async () => {
    const objs = await render({}, { release: 'team-x' });
    for (const o of objs.filter((o) => o.kind !== 'CustomResourceDefinition')) {
      assert.ok(o.metadata.name.startsWith('team-x-kafka-backup-operator'), key(o));
    }
  });

  test('values.schema.json refuses bad values and names them', async () => {
    const refused: Array<[Values, RegExp]> = [
      [{ replicaCount: 0 }, /at '\/replicaCount': minimum: got 0, want 1/],
      [{ replicaCount: 'two' }, /at '\/replicaCount': got string, want integer/],
      [{ logLevel: 'verbose' }, /at '\/logLevel': value must be one of 'debug', 'info', 'warn', 'error'/],
      [{ bogus: 1 }, /additional properties 'bogus' not allowed/],
      [{ crds: { install: 'yes' } }, /at '\/crds\/install': got string, want boolean/],
      [{ crds: { keep: false } }, /at '\/crds': additional properties 'keep' not allowed/],
      [{ syncPeriod: '5 minutes' }, /at '\/syncPeriod': '5 minutes' does not match pattern/],
      [{ maxConcurrentReconciles: 0 }, /at '\/maxConcurrentReconciles': minimum: got 0, want 1/],
      [{ kubeApiQps: 0 }, /at '\/kubeApiQps'/],
      [{ kubeApiQps: -2 }, /at '\/kubeApiQps'/],
      [{ kubeApiBurst: 0 }, /at '\/kubeApiBurst': minimum: got 0, want 1/],
      [{ watchNamespaces: ['a', 'a'] }, /at '\/watchNamespaces': items at 0 and 1 are equal/],
      [{ watchNamespaces: ['Team_A'] }, /at '\/watchNamespaces\/0': 'Team_A' does not match pattern/],
      [{ serviceAccount: { create: false } }, /at '\/serviceAccount\/name': minLength: got 0, want 1/],
      [
        { image: { repository: 'x', pullPolicy: 'Sometimes' } },
        /at '\/image\/pullPolicy': value must be one of/,
      ],
      [{ resources: { limits: { cpu: 'lots' } } }, /at '\/resources\/limits\/cpu'/],
      [{ podLabels: { 'app.kubernetes.io/name': 'x' } }, /at '\/podLabels\/app.kubernetes.io~1name'/],
      [{ serviceMonitor: { interval: 'often' } }, /at '\/serviceMonitor\/interval': 'often' does not match/],
      [{ networkPolicy: { enabled: 'maybe' } }, /at '\/networkPolicy\/enabled': got string, want boolean/],
      [{ hostNetwork: 'yes' }, /at '\/hostNetwork': got string, want boolean/],
      [{ runner: { mode: 'pod' } }, /at '\/runner\/mode': value must be one of 'in-process', 'job'/],
      [
        { runner: { mode: 'job', job: { podTemplate: { spec: { hostPID: true } } } } },
        /at '\/runner\/job\/podTemplate\/spec': additional properties 'hostPID' not allowed/,
      ],
      [{ ports: { metrics: 0 } }, /at '\/ports\/metrics': minimum: got 0, want 1/],
      [{ ports: { health: 70000 } }, /at '\/ports\/health': maximum: got 70,?000, want 65,?535/],
      [{ extraEnv: [{ value: 'x' }] }, /at '\/extraEnv\/0': missing property 'name'/],
      [{ extraEnv: [{ name: 'POD_NAME', value: 'x' }] }, /at '\/extraEnv\/0\/name'/],
      [
        { grafanaDashboard: { enabled: true, folder: 'x' } },
        /at '\/grafanaDashboard': additional properties 'folder'/,
      ],
    ];
    for (const [values, message] of refused) {
      await assert.rejects(render(values), message, JSON.stringify(values));
    }
    await assert.rejects(lint({ replicaCount: 0 }), /at '\/replicaCount': minimum: got 0, want 1/);
  });

  test('Chart.yaml: apiVersion v2, version and appVersion match the library and its image', async () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
    const pkg = JSON.parse(readFileSync(join(CHART_DIR, '..', '..', '..', 'package.json'), 'utf8'));
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'kafka-backup-operator');
    assert.equal(chart.version, '0.1.0');
    assert.equal(chart.appVersion, pkg.version);
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
    assert.equal(`${values.image.repository}:${chart.appVersion}`, DEFAULT_OPERATOR_IMAGE);
    // Rendered, too: the default image is the construct's.
    const [container] = only(await render(), 'Deployment').spec.template.spec.containers;
    assert.equal(container.image, DEFAULT_OPERATOR_IMAGE);
  });

  test('the README documents every value', () => {
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Values;
    const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
    const leaves = (obj: Values, prefix = ''): string[] =>
      Object.entries(obj).flatMap(([k, v]) =>
        v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
          ? leaves(v as Values, `${prefix}${k}.`)
          : [`${prefix}${k}`],
      );
    for (const path of leaves(values)) {
      assert.ok(readme.includes(`| \`${path}\` |`), `README.md has a row for ${path}`);
    }
  });
});
