/**
 * The Grafana dashboard of the Helm chart asks only for metrics the operator registers, with
 * labels they have, and shows every metric of its own: the registry is built the way
 * `kafka-backup operator` builds it (OperatorMetrics with process metrics, the five controllers).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { type Metric, Registry } from 'prom-client';
import { silentLogger } from '../../../runtime/log.ts';
import { defaultControllers } from '../../../runtime/operator/controllers/index.ts';
import { OperatorMetrics } from '../../../runtime/operator/metrics.ts';
import { InProcessRunner } from '../../../runtime/operator/runs/runner.ts';
import { FakeKube } from './fake-kube.ts';

const DASHBOARD = new URL(
  '../../../runtime/chart/kafka-backup-operator/dashboards/kafka-backup-operator.json',
  import.meta.url,
);

/** Grafana's data source variable, as panels name it. */
const DATASOURCE = `\${datasource}`;

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly id: number;
  readonly datasource?: { uid?: string };
  readonly targets?: readonly { expr: string; datasource?: { uid?: string } }[];
  readonly panels?: readonly Panel[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { query: string };
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: Panel[];
  templating: { list: Variable[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** Series names a metric exposes, by name, with its label names. */
type Series = Map<string, { metric: string; labels: readonly string[] }>;

async function operatorSeries(): Promise<Series> {
  const metrics = new OperatorMetrics(new Registry());
  defaultControllers({
    kube: new FakeKube(),
    log: silentLogger,
    runner: new InProcessRunner({ onChange: () => {}, log: silentLogger }),
    metrics,
  });
  const series: Series = new Map();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, type: kind } = await (metric as unknown as Metric).get();
    const type = String(kind);
    const labels = (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    const suffixes =
      type === 'histogram'
        ? ['_bucket', '_sum', '_count']
        : type === 'summary'
          ? ['', '_sum', '_count']
          : [''];
    for (const s of suffixes) {
      series.set(`${name}${s}`, { metric: name, labels: s === '_bucket' ? [...labels, 'le'] : labels });
    }
  }
  return series;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);
/** Labels every scraped series has, or gets when Prometheus renames a clashing one (honor_labels false). */
const TARGET_LABELS = ['instance', 'job'];

interface Selector {
  readonly name: string;
  readonly matchers: readonly string[];
}

/** The vector selectors of a PromQL expression, and the labels its by/on/without clauses group on. */
function parsePromQL(expr: string): { selectors: Selector[]; grouping: string[]; made: string[] } {
  const selectors: Selector[] = [];
  const made = [...expr.matchAll(/label_replace\([\s\S]*?,\s*"(\w+)"/g)].map((m) => m[1] as string);
  let rest = expr.replace(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g, (_all, name: string, body: string) => {
    selectors.push({
      name,
      matchers: [...body.matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)].map((m) => m[1] as string),
    });
    return ' ';
  });
  rest = rest.replace(/"(?:\\.|[^"\\])*"/g, ' ');
  const grouping: string[] = [];
  rest = rest.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_all, _kw, labels: string) => {
      grouping.push(
        ...labels
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      );
      return ' ';
    },
  );
  rest = rest.replace(/\[[^\]]*\]/g, ' ').replace(/\$\{?\w+\}?/g, ' ');
  for (const m of rest.matchAll(/([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m as unknown as [string, string, string | undefined];
    if (!call && !KEYWORDS.has(name) && !/^\d/.test(name)) selectors.push({ name, matchers: [] });
  }
  return { selectors, grouping, made };
}

/** Every PromQL expression of the dashboard: panel targets and variable queries. */
function expressions(): { where: string; expr: string }[] {
  const found: { where: string; expr: string }[] = [];
  for (const p of panels)
    for (const t of p.targets ?? []) found.push({ where: `panel "${p.title}"`, expr: t.expr });
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const labelValues = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
    const inner = labelValues
      ? `sum by (${labelValues[2]}) (${labelValues[1]})`
      : /^query_result\((.+)\)$/s.exec(q)?.[1];
    assert.ok(inner, `variable ${v.name}: a query this test can read (${q})`);
    found.push({ where: `variable $${v.name}`, expr: inner });
  }
  return found;
}

describe('the Grafana dashboard', () => {
  let series: Series;
  before(async () => {
    series = await operatorSeries();
  });

  test('every metric it queries is registered by the operator, with the labels it matches and groups on', () => {
    const exprs = expressions();
    assert.ok(exprs.length > 20);
    for (const { where, expr } of exprs) {
      const { selectors, grouping, made } = parsePromQL(expr);
      assert.ok(selectors.length > 0, `${where}: no metric in ${expr}`);
      const available = new Set([...TARGET_LABELS, ...made]);
      for (const s of selectors) {
        const known = series.get(s.name);
        assert.ok(known, `${where}: ${s.name} is not a metric the operator registers`);
        const labels = new Set([...TARGET_LABELS, ...known.labels]);
        // A `namespace` label scraped through a ServiceMonitor without honorLabels becomes exported_namespace.
        if (labels.has('namespace')) labels.add('exported_namespace');
        for (const m of s.matchers) assert.ok(labels.has(m), `${where}: ${s.name} has no label ${m}`);
        for (const l of labels) available.add(l);
      }
      for (const g of grouping)
        assert.ok(available.has(g), `${where}: groups on ${g}, which no series in it has`);
    }
  });

  test('it shows every metric of the operator’s own (a new one fails here until it has a panel)', () => {
    const queried = new Set(
      expressions().flatMap(({ expr }) => parsePromQL(expr).selectors.map((s) => series.get(s.name)?.metric)),
    );
    const own = [...new Set([...series.values()].map((s) => s.metric))].filter((m) =>
      m.startsWith('kafka_backup_'),
    );
    assert.ok(own.length >= 17);
    assert.deepEqual(
      own.filter((m) => !queried.has(m)),
      [],
    );
  });

  test('every panel queries the datasource variable; kind and namespace variables exist', () => {
    const names = dashboard.templating.list.map((v) => `${v.type}:${v.name}`);
    for (const v of ['datasource:datasource', 'query:kind', 'query:namespace'])
      assert.ok(names.includes(v), v);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of panels.filter((p) => p.type !== 'row')) {
      assert.equal(p.datasource?.uid, DATASOURCE, p.title);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, DATASOURCE, p.title);
    }
    const filtered = expressions().filter(({ expr }) => expr.includes('$kind')).length;
    assert.ok(filtered >= 10, 'the kind variable filters the panels of runs and reconciles');
    assert.ok(expressions().some(({ expr }) => expr.includes('$namespace')));
  });

  test('the PromQL reader finds metrics and leaves functions, labels, strings and ranges out', () => {
    const parsed = parsePromQL(
      'histogram_quantile(0.95, sum by (kind, le) (rate(x_bucket{kind=~"$kind", a!="b"}[5m]))) / on (instance) y and z',
    );
    assert.deepEqual(parsed.selectors, [
      { name: 'x_bucket', matchers: ['kind', 'a'] },
      { name: 'y', matchers: [] },
      { name: 'z', matchers: [] },
    ]);
    assert.deepEqual(parsed.grouping, ['kind', 'le', 'instance']);
    assert.deepEqual(parsePromQL('label_replace(m{a="1"}, "made", "$1", "a", "(.+)")').made, ['made']);
  });
});
