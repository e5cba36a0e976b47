import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { kustomize, ROOT } from '../helpers/kustomize.ts';

/**
 * Every metric an alert or a dashboard panel names must be exported by something: by Aether's own
 * code (a prom-client metric registered in lib/, functions/ or bin/), or by one of the exporters
 * listed below. An alert on a metric nobody exports can never fire — the failure this test exists for.
 */
const EXTERNAL: Record<string, readonly string[]> = {
  'kube-state-metrics': [
    'kube_deployment_status_replicas_available',
    'kube_statefulset_status_replicas_ready',
    'kube_job_status_failed',
    'kube_job_status_succeeded',
    'kube_job_status_completion_time',
    'kube_cronjob_status_last_successful_time',
    'kube_cronjob_status_last_schedule_time',
    'kube_pod_container_resource_limits',
    'kube_pod_start_time',
  ],
  // The kubelet's /metrics (volume stats) and its cAdvisor endpoint (container_*).
  kubelet: ['kubelet_volume_stats_available_bytes', 'kubelet_volume_stats_capacity_bytes', 'container_memory_working_set_bytes'],
  'cert-manager': ['certmanager_certificate_expiration_timestamp_seconds', 'certmanager_certificate_ready_status'],
  // Not installed: the dispatcher is Aether's cron (its calls are signed; the cron-connector's are not),
  // so no cron-connector metric may be named — AetherSchedulerDown watches the dispatcher instead.
  'cron-connector': [],
  prometheus: ['up'],
};
const EXTERNAL_NAMES = new Set(Object.values(EXTERNAL).flat());

// PromQL words that are not metric names: functions, aggregations, operators, modifiers.
const PROMQL_WORDS = new Set(
  (
    'abs absent absent_over_time avg avg_over_time bottomk by ceil changes clamp clamp_max clamp_min count count_over_time count_values ' +
    'day_of_month day_of_week days_in_month delta deriv exp floor group group_left group_right histogram_quantile holt_winters hour ' +
    'idelta ignoring increase irate label_join label_replace last_over_time ln log10 log2 max max_over_time min min_over_time minute ' +
    'month offset on predict_linear present_over_time quantile quantile_over_time rate resets round scalar sgn sort sort_desc sqrt ' +
    'stddev stddev_over_time stdvar sum sum_over_time time timestamp topk vector without year and or unless bool inf nan atan2'
  ).split(' '),
);

/** The metric names a PromQL expression reads (label names, strings, durations and functions removed). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // string literals (label values, regexes)
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range and subquery windows
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\boffset\s+\d+[smhdwy]/g, '');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)/g)) {
    const word = m[1]!;
    if (PROMQL_WORDS.has(word.toLowerCase())) continue;
    // A function call is followed by `(`: every PromQL function is in PROMQL_WORDS, so anything else is an error here.
    names.add(word);
  }
  return [...names];
}

/** The series names prom-client exports for each metric registered in the code. */
function exportedByCode(): Map<string, string> {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (name === 'node_modules') return [];
      return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
    });
  const exported = new Map<string, string>();
  for (const file of ['lib', 'functions', 'bin'].flatMap((d) => files(join(ROOT, d)))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new (?:client\.)?(Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*['"]([a-zA-Z_:][\w:]*)['"]/g)) {
      const [, type, name] = m as unknown as [string, string, string];
      const where = relative(ROOT, file);
      const series = type === 'Histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : type === 'Summary' ? [name, `${name}_sum`, `${name}_count`] : [name];
      for (const s of series) exported.set(s, where);
    }
  }
  return exported;
}

const ruleSpec = z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(z.looseObject({ alert: z.string().optional(), record: z.string().optional(), expr: z.string() })) })) });
const dashboardSchema = z.object({
  title: z.string(),
  panels: z.array(z.looseObject({ title: z.string(), targets: z.array(z.looseObject({ expr: z.string().optional() })).optional() })),
});

const objects = kustomize(join(ROOT, 'k8s', 'overlays', 'production'));
const rules = objects.filter((o) => o.kind === 'PrometheusRule').map((o) => ({ name: o.metadata.name, spec: ruleSpec.parse((o as { spec?: unknown }).spec) }));
const dashboards = objects
  .filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['grafana_dashboard'] === '1')
  .flatMap((o) => Object.entries((o as { data?: Record<string, string> }).data ?? {}).map(([file, json]) => ({ file, dashboard: dashboardSchema.parse(JSON.parse(json)) })));

/** Every PromQL expression with where it comes from. Grafana's variables become plain values, so promtool can parse them. */
const queries: Array<{ where: string; expr: string }> = [
  ...rules.flatMap(({ name, spec }) => spec.groups.flatMap((g) => g.rules.map((r) => ({ where: `${name}/${r.alert ?? r.record}`, expr: r.expr })))),
  ...dashboards.flatMap(({ file, dashboard }) =>
    dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => (t.expr ? [{ where: `${file}: ${p.title}`, expr: t.expr.replace(/\$__(rate_)?interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, 'x') }] : []))),
  ),
];

describe('metrics named by alerts and dashboards', () => {
  it('the extractor reads metric names, not functions, labels, strings or windows', () => {
    expect(metricNames('sum by (account) (increase(aether_orders_total{namespace="aether", status=~"x|y"}[1h])) > 0').sort()).toEqual(['aether_orders_total']);
    expect(metricNames('time() - max(a_ts{f="tick"}) > 90 * 60 or absent_over_time(a_ts{f="tick"}[90m])')).toEqual(['a_ts']);
    expect(metricNames('max by (account) (x_usd{account="$account"}) * (1 - max by (account) (y_ratio)) - x_usd offset 1d').sort()).toEqual(['x_usd', 'y_ratio']);
    expect(metricNames('histogram_quantile(0.95, sum by (le, function) (rate(h_seconds_bucket[3h]))) > 30')).toEqual(['h_seconds_bucket']);
    expect(metricNames('a / on(pod) group_left(node) b')).toEqual(['a', 'b']);
  });

  it('finds the alerts and the dashboards in the rendered production overlay', () => {
    expect(rules.length).toBeGreaterThan(0);
    expect(dashboards.map((d) => d.file).sort()).toEqual(expect.arrayContaining(['aether-accounts-dashboard.json', 'aether-dashboard.json']));
    expect(queries.length).toBeGreaterThan(30);
  });

  it('every metric is exported by the code (lib/, functions/, bin/) or by a listed external exporter', () => {
    const exported = exportedByCode();
    expect(exported.get('aether_jobs_total')).toBe('lib/http/metrics.ts');
    const unknown: string[] = [];
    for (const q of queries) for (const name of metricNames(q.expr)) if (!exported.has(name) && !EXTERNAL_NAMES.has(name)) unknown.push(`${q.where}: ${name}`);
    expect(unknown).toEqual([]);
    // The allow-list holds only other exporters' metrics: never one of Aether's own.
    for (const name of EXTERNAL_NAMES) expect(name.startsWith('aether_'), name).toBe(false);
  });

  it('every alert and panel query parses (promtool check rules; panels checked as recording rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aether-rules-'));
    try {
      const file = join(dir, 'rules.yml');
      const groups = [
        ...rules.flatMap((r) => r.spec.groups),
        { name: 'dashboards', rules: queries.filter((q) => !rules.some((r) => q.where.startsWith(`${r.name}/`))).map((q, i) => ({ record: `aether:dashboard_query:${i}`, expr: q.expr })) },
      ];
      writeFileSync(file, stringify({ groups }));
      let out: string;
      try {
        out = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
        if (e.code === 'ENOENT') throw new Error('promtool is not on PATH: install it (Debian: apt-get install prometheus)', { cause: error });
        throw new Error(`promtool check rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
      }
      expect(out).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
