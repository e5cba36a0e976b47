import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IPodSpec, IPodTemplateSpec } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { parseCron } from '../../lib/runtime/cron.ts';
import { functionResource, krakenSecretResource, loadStack, orderFunctionFor } from '../../lib/runtime/stack.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OVERLAY = join(ROOT, 'k8s', 'overlays', 'production');
const OVERLAY_CE = join(ROOT, 'k8s', 'overlays', 'production-ce');
const NAMESPACE = 'aether';
const stack = loadStack(join(ROOT, 'stack.yml'));

const objectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});
type K8sObject = z.infer<typeof objectSchema>;

/** Renders the overlay exactly as an operator would apply it. Never skipped: no kubectl, no pass. */
function kustomize(dir: string): K8sObject[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('kubectl is not on PATH: install kubectl (it bundles kustomize) to render and check k8s/', {
        cause: error,
      });
    }
    throw new Error(`kubectl kustomize ${relative(ROOT, dir)} failed:\n${e.stderr ?? e.message}`, { cause: error });
  }
  return parseAllDocuments(out).map((doc) => objectSchema.parse(doc.toJS()));
}

// --- Schemas for the custom resources (kubernetes-models covers only the core API groups). ---
const stringMap = z.record(z.string(), z.string());
const resources = z.strictObject({ cpu: z.string().optional(), memory: z.string().optional() });
// openfaas.com/v1 Function, after the CRD in openfaas/faas-netes (artifacts/crds/openfaas.com_functions.yaml).
const functionSpec = z.strictObject({
  name: z.string(),
  image: z.string(),
  handler: z.string().optional(),
  annotations: stringMap.optional(),
  labels: stringMap.optional(),
  environment: stringMap.optional(),
  constraints: z.array(z.string()).optional(),
  secrets: z.array(z.string()).optional(),
  limits: resources.optional(),
  requests: resources.optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
});
const podMonitorSpec = z.looseObject({
  selector: z.looseObject({}),
  namespaceSelector: z.looseObject({ matchNames: z.array(z.string()) }).optional(),
  podMetricsEndpoints: z.array(z.looseObject({ port: z.string(), path: z.string(), interval: z.string().optional() })).min(1),
});
const ruleSchema = z.strictObject({
  alert: z.string(),
  expr: z.string().min(1),
  for: z.string().regex(/^\d+[smh]$/).optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
});
const prometheusRuleSpec = z.strictObject({
  groups: z.array(z.strictObject({ name: z.string(), rules: z.array(ruleSchema).min(1) })).min(1),
});
const clusterIssuerSpec = z.strictObject({
  acme: z.strictObject({
    server: z.url(),
    email: z.email(),
    privateKeySecretRef: z.strictObject({ name: z.string() }),
    solvers: z.array(z.looseObject({ http01: z.looseObject({ ingress: z.looseObject({ ingressClassName: z.string() }) }) })).min(1),
  }),
});
const specOf = <T extends z.ZodType>(schema: T) => (o: K8sObject) => schema.parse((o as { spec?: unknown }).spec) as z.infer<T>;

type Validator = (o: K8sObject) => void;
const model = (M: new (data: never) => { validate(): void }): Validator => (o) => new M(o as never).validate();
const VALIDATORS: Record<string, Validator> = {
  'v1/Namespace': model(Namespace),
  'v1/ServiceAccount': model(ServiceAccount),
  'v1/Secret': model(Secret),
  'v1/Service': model(Service),
  'v1/ConfigMap': model(ConfigMap),
  'v1/PersistentVolumeClaim': model(PersistentVolumeClaim),
  'apps/v1/Deployment': model(Deployment),
  'apps/v1/StatefulSet': model(StatefulSet),
  'batch/v1/Job': model(Job),
  'batch/v1/CronJob': model(CronJob),
  'rbac.authorization.k8s.io/v1/Role': model(Role),
  'rbac.authorization.k8s.io/v1/RoleBinding': model(RoleBinding),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
  'networking.k8s.io/v1/Ingress': model(Ingress),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'openfaas.com/v1/Function': (o) => void specOf(functionSpec)(o),
  'monitoring.coreos.com/v1/PodMonitor': (o) => void specOf(podMonitorSpec)(o),
  'monitoring.coreos.com/v1/PrometheusRule': (o) => void specOf(prometheusRuleSpec)(o),
  'cert-manager.io/v1/ClusterIssuer': (o) => void specOf(clusterIssuerSpec)(o),
};
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterIssuer']);

// Rendered once per overlay, on first use, inside each test: a missing kubectl fails every test with
// its message rather than leaving them reported as skipped.
const renders = new Map<string, { objects: K8sObject[] } | { error: Error }>();
function rendered(dir = OVERLAY): K8sObject[] {
  let result = renders.get(dir);
  if (!result) {
    try {
      result = { objects: kustomize(dir) };
    } catch (error) {
      result = { error: error as Error };
    }
    renders.set(dir, result);
  }
  if ('error' in result) throw result.error;
  return result.objects;
}
const ofKind = (kind: string) => rendered().filter((o) => o.kind === kind);
const named = (kind: string, name: string): K8sObject => {
  const found = rendered().find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in the rendered overlay`);
  return found;
};
const podSpecs = (): Array<[string, IPodSpec]> =>
  rendered().flatMap((o): Array<[string, IPodSpec]> => {
    if (o.kind === 'Deployment') return [[o.metadata.name, new Deployment(o as never).spec!.template.spec!]];
    if (o.kind === 'StatefulSet') return [[o.metadata.name, new StatefulSet(o as never).spec!.template.spec!]];
    if (o.kind === 'Job') return [[o.metadata.name, new Job(o as never).spec!.template.spec!]];
    if (o.kind === 'CronJob') return [[o.metadata.name, new CronJob(o as never).spec!.jobTemplate.spec!.template.spec!]];
    return [];
  });

describe('kubectl kustomize k8s/overlays/production', () => {
  it('renders objects that all pass their schema (kubernetes-models for core kinds, zod for CRDs)', () => {
    const objects = rendered();
    expect(objects.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const o of objects) {
      const validate = VALIDATORS[`${o.apiVersion}/${o.kind}`];
      if (!validate) {
        failures.push(`${o.apiVersion} ${o.kind}/${o.metadata.name}: no validator — add one to this test`);
        continue;
      }
      try {
        validate(o);
      } catch (error) {
        failures.push(`${o.kind}/${o.metadata.name}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('puts every namespaced object in the aether namespace (D-7)', () => {
    expect(named('Namespace', NAMESPACE)).toBeDefined();
    const objects = rendered();
    const misplaced = objects
      .filter((o) => !CLUSTER_SCOPED.has(o.kind) && o.metadata.namespace !== NAMESPACE)
      .map((o) => `${o.kind}/${o.metadata.name} in ${o.metadata.namespace ?? '(none)'}`);
    expect(misplaced).toEqual([]);
    for (const o of objects.filter((x) => CLUSTER_SCOPED.has(x.kind))) expect(o.metadata.namespace).toBeUndefined();
  });

  it('contains no Secret data: Kraken Secrets are empty holders, the rest are created outside git', () => {
    for (const s of ofKind('Secret')) {
      const secret = s as K8sObject & { data?: object; stringData?: object };
      expect(secret.data ?? {}, s.metadata.name).toEqual({});
      expect(secret.stringData ?? {}, s.metadata.name).toEqual({});
    }
    const accounts = Object.keys(stack.functions).filter((n) => n.startsWith('order-')).map((n) => n.slice('order-'.length));
    expect(ofKind('Secret').map((s) => s.metadata.name).sort()).toEqual(accounts.map((a) => `kraken-${a}`).sort());
  });

  it('documents a `kubectl create secret` command for every referenced Secret that is not rendered', () => {
    const readme = readFileSync(join(ROOT, 'k8s', 'README.md'), 'utf8');
    const rendered = new Set(ofKind('Secret').map((s) => s.metadata.name));
    const referenced = new Set<string>();
    for (const f of ofKind('Function')) for (const s of specOf(functionSpec)(f).secrets ?? []) referenced.add(s);
    for (const [, pod] of podSpecs()) {
      for (const v of pod.volumes ?? []) if (v.secret?.secretName) referenced.add(v.secret.secretName);
      for (const c of pod.containers) for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) referenced.add(e.valueFrom.secretKeyRef.name);
    }
    const undocumented = [...referenced].filter(
      (name) => !rendered.has(name) && !new RegExp(`create secret generic ${name}\\b`).test(readme),
    );
    expect(undocumented).toEqual([]);
  });

  it('has one Function per stack.yml entry, with the same image, secrets, environment, labels and annotations', () => {
    const functions = ofKind('Function');
    expect(functions.map((f) => f.metadata.name).sort()).toEqual(Object.keys(stack.functions).sort());
    for (const f of functions) {
      const spec = specOf(functionSpec)(f);
      const entry = stack.functions[f.metadata.name]!;
      expect(spec.name).toBe(f.metadata.name);
      expect({
        image: spec.image,
        secrets: spec.secrets,
        environment: spec.environment,
        labels: spec.labels,
        annotations: spec.annotations,
        requests: spec.requests,
        limits: spec.limits,
        readOnlyRootFilesystem: spec.readOnlyRootFilesystem,
      }).toEqual({
        image: entry.image,
        secrets: entry.secrets,
        environment: entry.environment,
        labels: entry.labels,
        annotations: entry.annotations,
        requests: entry.requests,
        limits: entry.limits,
        readOnlyRootFilesystem: entry.readonly_root_filesystem,
      });
      // The operator turns spec.handler into fprocess, which would override the image's entry point.
      expect(spec.handler).toBeUndefined();
    }
  });

  it('has no hedge function: the hedge is a phase of each order-<account> job, where its key is mounted', () => {
    expect(ofKind('Function').map((f) => f.metadata.name)).not.toContain('hedge');
    expect(existsSync(join(ROOT, 'k8s', 'base', 'functions', 'hedge.yaml'))).toBe(false);
    // Nothing in the manifests names it (a network policy, a dashboard query, an alert on its queue).
    expect(JSON.stringify(rendered())).not.toMatch(/"hedge"|queue="hedge"|faas_function="hedge"/);
  });

  it('mounts each account\'s Kraken Secret in its order function only', () => {
    const mounts = new Map<string, string[]>();
    for (const f of ofKind('Function')) {
      for (const s of specOf(functionSpec)(f).secrets ?? []) if (s.startsWith('kraken-')) mounts.set(s, [...(mounts.get(s) ?? []), f.metadata.name]);
    }
    const secrets = ofKind('Secret').map((s) => s.metadata.name);
    expect(secrets.length).toBeGreaterThan(0);
    for (const name of secrets) expect(mounts.get(name), name).toEqual([`order-${name.slice('kraken-'.length)}`]);
    expect([...mounts.keys()].sort()).toEqual([...secrets].sort());
  });

  it('is what `aether stack account <slug>` prints for each account (the documented step for a new one)', () => {
    for (const name of Object.keys(stack.functions).filter((n) => n.startsWith('order-'))) {
      const account = name.slice('order-'.length);
      expect(functionResource(name, orderFunctionFor(stack, account)), name).toEqual(named('Function', name));
      expect(krakenSecretResource(account), account).toEqual(named('Secret', `kraken-${account}`));
    }
  });

  it('gives every Function /healthz probes, resource requests and limits', () => {
    for (const f of ofKind('Function')) {
      const spec = specOf(functionSpec)(f);
      expect(spec.annotations?.['com.openfaas.health.http.path'], f.metadata.name).toBe('/healthz');
      expect(spec.annotations?.['com.openfaas.health.http.initialDelay'], f.metadata.name).toMatch(/^\d+s$/);
      expect(spec.requests?.cpu && spec.requests.memory && spec.limits?.cpu && spec.limits.memory, f.metadata.name).toBeTruthy();
    }
  });

  it('gives every container of the other workloads probes, resources, a pinned image and no privilege escalation', () => {
    const specs = podSpecs();
    expect(specs.map(([name]) => name).sort()).toEqual(['aether-audit-anchor', 'aether-dispatcher', 'aether-migrate', 'redis', 'timescaledb']);
    // The Jobs run to completion; everything else (the dispatcher's /healthz too) is probed.
    const unprobed = new Set(['aether-migrate', 'aether-audit-anchor']);
    for (const [name, pod] of specs) {
      for (const c of pod.containers) {
        expect(c.image, name).toMatch(/:[\w.-]+$/);
        expect(c.image, name).not.toMatch(/:latest$/);
        expect(c.resources?.requests && c.resources.limits, name).toBeTruthy();
        expect(c.securityContext?.allowPrivilegeEscalation, name).toBe(false);
        if (!unprobed.has(name)) {
          expect(c.livenessProbe, name).toBeDefined();
          expect(c.readinessProbe, name).toBeDefined();
        }
      }
    }
  });

  it('serves HTTPS only through a TLS Ingress whose certificate comes from a rendered ClusterIssuer (D-2)', () => {
    const ingresses = ofKind('Ingress').map((o) => new Ingress(o as never));
    expect(ingresses).toHaveLength(1);
    const ingress = ingresses[0]!;
    const tlsHosts = (ingress.spec?.tls ?? []).flatMap((t) => t.hosts ?? []);
    expect(tlsHosts.length).toBeGreaterThan(0);
    for (const t of ingress.spec?.tls ?? []) expect(t.secretName).toBeTruthy();
    // nginx regex locations (use-regex) match case-insensitively from the start of the decoded path.
    expect(ingress.metadata?.annotations?.['nginx.ingress.kubernetes.io/use-regex']).toBe('true');
    const routed = (ingress.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => new RegExp(`^${p.path}`, 'i')));
    const published = (path: string) => routed.some((re) => re.test(path));
    for (const rule of ingress.spec?.rules ?? []) {
      expect(rule.host).toBeTruthy();
      expect(tlsHosts).toContain(rule.host);
      for (const p of rule.http?.paths ?? []) {
        const backend = named('Service', p.backend.service!.name);
        expect((backend as K8sObject & { spec: { type?: string } }).spec.type).toBe('ExternalName');
      }
    }
    for (const path of ['/function/api', '/function/api/', '/function/api/healthz', '/function/api/auth/login', '/function/api/accounts/company/trades.csv', '/function/api/metricsx'])
      expect(published(path), path).toBe(true);
    // Only the api function, and never its /metrics (Prometheus scrapes the pods with the metrics token).
    for (const path of ['/function/api/metrics', '/function/api/METRICS', '/function/api/metrics/', '/function/tick', '/function/order-company/', '/function/apix', '/system/functions', '/metrics'])
      expect(published(path), path).toBe(false);
    const issuer = ingress.metadata?.annotations?.['cert-manager.io/cluster-issuer'];
    expect(named('ClusterIssuer', issuer ?? '(missing annotation)')).toBeDefined();
    expect(ingress.metadata?.annotations?.['nginx.ingress.kubernetes.io/force-ssl-redirect']).toBe('true');
  });

  it('lets only the api service account touch Secrets, only the kraken-* ones, and only patch them (never read, list or create)', () => {
    const krakenSecrets = ofKind('Secret').map((s) => s.metadata.name).sort();
    const roles = ofKind('Role').map((o) => new Role(o as never));
    expect(roles).toHaveLength(1);
    for (const rule of roles[0]!.rules ?? []) {
      expect(rule.apiGroups).toEqual(['']);
      expect(rule.resources).toEqual(['secrets']);
      expect([...(rule.resourceNames ?? [])].sort()).toEqual(krakenSecrets);
      expect(rule.verbs).toEqual(['patch']);
    }
    const bindings = ofKind('RoleBinding').map((o) => new RoleBinding(o as never));
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.roleRef.name).toBe(roles[0]!.metadata!.name);
    const apiAccount = stack.functions['api']!.annotations!['com.openfaas.serviceaccount'];
    expect(bindings[0]!.subjects).toEqual([{ kind: 'ServiceAccount', name: apiAccount, namespace: NAMESPACE }]);
    expect(named('ServiceAccount', apiAccount!)).toBeDefined();
    const defaultAccount = named('ServiceAccount', 'default') as K8sObject & { automountServiceAccountToken?: boolean };
    expect(defaultAccount.automountServiceAccountToken).toBe(false);
  });

  it('signs every job: the job key in every function and the dispatcher, the master key in api only, the owner URL in the migrate Job only, no cron-connector', () => {
    const envSecrets = (pod: IPodSpec) => pod.containers.flatMap((c) => (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef?.name ? [e.valueFrom.secretKeyRef.name] : [])));
    for (const f of ofKind('Function')) {
      const spec = specOf(functionSpec)(f);
      expect(spec.secrets, f.metadata.name).toContain('aether-job-key');
      expect(spec.secrets?.includes('aether-master-key'), f.metadata.name).toBe(f.metadata.name === 'api');
      // OpenFaaS' cron-connector cannot sign: no function may ask it for calls.
      expect([spec.annotations?.['topic'], spec.annotations?.['schedule']], f.metadata.name).toEqual([undefined, undefined]);
    }
    expect(ofKind('Function').filter((f) => specOf(functionSpec)(f).annotations?.['aether/schedule']).map((f) => f.metadata.name).sort()).toEqual(['report', 'tick', 'train']);
    const pods = Object.fromEntries(podSpecs().map(([name, pod]) => [name, envSecrets(pod)]));
    expect(pods['aether-dispatcher']).toContain('aether-job-key');
    expect(pods['aether-dispatcher']).not.toContain('aether-master-key');
    const owners = Object.entries(pods).filter(([, secrets]) => secrets.includes('database-owner-url')).map(([name]) => name);
    expect(owners).toEqual(['aether-migrate']);
    for (const f of ofKind('Function')) expect(specOf(functionSpec)(f).secrets, f.metadata.name).not.toContain('database-owner-url');
  });

  it('keys the audit chain: every function (each appends audit rows) mounts aether-audit-key; the dispatcher, migrate Job and anchor CronJob do not', () => {
    // `aether serve` opens its services with the audit key for every function and refuses to start
    // without it in the cluster; only `aether dispatch` runs with auditKey: false (bin/services.ts).
    const functions = ofKind('Function').map((f) => f.metadata.name);
    expect(functions).toEqual(expect.arrayContaining(['api', 'tick', 'score', 'report', 'train', 'order-company']));
    for (const f of ofKind('Function')) expect(specOf(functionSpec)(f).secrets, f.metadata.name).toContain('aether-audit-key');
    for (const [name, entry] of Object.entries(stack.functions)) expect(entry.secrets, name).toContain('aether-audit-key');
    const holders = podSpecs()
      .filter(([, pod]) => JSON.stringify(pod).includes('aether-audit-key') || pod.containers.some((c) => (c.env ?? []).some((e) => e.name === 'AETHER_AUDIT_KEY')))
      .map(([name]) => name);
    // The anchor CronJob reads (seq, hash) and recomputes no HMAC: no workload holds both the key and the anchor log.
    expect(holders).toEqual([]);
  });

  it('anchors the audit chain hourly from a hardened CronJob that writes AETHER_AUDIT_ANCHORS to its own volume', () => {
    const cron = new CronJob(named('CronJob', 'aether-audit-anchor') as never);
    const spec = cron.spec!;
    expect(() => parseCron(spec.schedule)).not.toThrow();
    expect(spec.schedule).toMatch(/^\d{1,2} \* \* \* \*$/); // hourly
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.successfulJobsHistoryLimit).toBeGreaterThan(0);
    expect(spec.failedJobsHistoryLimit).toBeGreaterThan(0);
    const template: IPodTemplateSpec = spec.jobTemplate.spec!.template;
    const pod = template.spec!;
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0]!;
    expect(c.command).toEqual(['node', 'bin/aether.js', 'audit', 'anchor']);

    // Hardened exactly as the migrate Job; fsGroup only so the non-root user can write the volume.
    const migrate = new Job(named('Job', 'aether-migrate') as never).spec!.template.spec!;
    expect(pod.automountServiceAccountToken).toBe(false);
    const { fsGroup, fsGroupChangePolicy: _policy, ...podContext } = pod.securityContext ?? {};
    expect(podContext).toEqual(migrate.securityContext);
    expect(podContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(fsGroup).toBe(podContext.runAsGroup);
    expect(c.securityContext).toEqual(migrate.containers[0]!.securityContext);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
    const mountAt = (path: string) => (c.volumeMounts ?? []).find((m) => m.mountPath === path);
    expect(volumes.get(mountAt('/tmp')?.name ?? '')?.emptyDir).toBeDefined();

    // The anchor log lives on the ReadWriteOnce claim, mounted writable, and AETHER_AUDIT_ANCHORS points into it.
    const claim = new PersistentVolumeClaim(named('PersistentVolumeClaim', 'aether-audit-anchors') as never);
    expect(claim.spec?.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim.spec?.resources?.requests?.['storage']).toBeTruthy();
    const anchorsVolume = [...volumes.values()].find((v) => v.persistentVolumeClaim?.claimName === 'aether-audit-anchors');
    expect(anchorsVolume).toBeDefined();
    const mount = (c.volumeMounts ?? []).find((m) => m.name === anchorsVolume!.name);
    expect(mount?.readOnly ?? false).toBe(false);
    const env = new Map((c.env ?? []).map((e) => [e.name, e]));
    const anchors = env.get('AETHER_AUDIT_ANCHORS')?.value ?? '';
    expect(anchors.startsWith(`${mount!.mountPath.replace(/\/$/, '')}/`), anchors).toBe(true);
    expect(anchors.length).toBeGreaterThan(mount!.mountPath.length + 1);

    // The least-privileged runtime role (anchoring only reads audit_log), never the owner.
    expect(env.get('DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'database-url', key: 'database-url' });
    expect(JSON.stringify(pod)).not.toContain('database-owner-url');

    // Its pods reach TimescaleDB: an egress policy selecting them, and the database's ingress admitting them.
    const labels = template.metadata?.labels ?? {};
    const selects = (selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined) =>
      selector !== undefined &&
      Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
      (selector.matchExpressions ?? []).every((e) => e.operator === 'In' && e.values!.includes(labels[e.key] ?? '\0'));
    const policies = ofKind('NetworkPolicy').map((o) => new NetworkPolicy(o as never));
    const isDb = (sel: { matchLabels?: Record<string, string> } | undefined) => sel?.matchLabels?.['app.kubernetes.io/name'] === 'timescaledb';
    const egress = policies.filter(
      (p) => Object.keys(p.spec?.podSelector.matchLabels ?? {}).length + (p.spec?.podSelector.matchExpressions?.length ?? 0) > 0 && selects(p.spec?.podSelector) && p.spec?.egress?.some((e) => e.to?.some((t) => isDb(t.podSelector)) && e.ports?.some((port) => port.port === 5432)),
    );
    expect(egress.map((p) => p.metadata?.name)).toHaveLength(1);
    const dbIngress = policies.filter((p) => isDb(p.spec?.podSelector) && p.spec?.ingress);
    expect(dbIngress.some((p) => p.spec!.ingress!.some((i) => i.from?.some((f) => f.namespaceSelector === undefined && selects(f.podSelector))))).toBe(true);
    // Nothing else: no internet, Redis or gateway egress for these pods.
    const other = policies.filter((p) => selects(p.spec?.podSelector) && p.spec?.egress?.some((e) => e.to?.some((t) => !isDb(t.podSelector) && t.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] !== 'kube-system')));
    expect(other.map((p) => p.metadata?.name)).toEqual([]);

    // A failed run alerts.
    const rules = ofKind('PrometheusRule').flatMap((r) => specOf(prometheusRuleSpec)(r).groups.flatMap((g) => g.rules));
    expect(rules.find((r) => r.alert === 'AetherAuditAnchorFailed')?.expr).toMatch(/kube_job_status_failed\{[^}]*job_name=~"aether-audit-anchor[^"]*"[^}]*\}\)? > 0/);
  });

  it('lets only the dispatcher reach the gateway, and only the gateway\'s pods reach the functions', () => {
    const policies = ofKind('NetworkPolicy').map((o) => new NetworkPolicy(o as never));
    const toOpenfaas = (p: NetworkPolicy) => p.spec?.egress?.some((e) => e.to?.some((t) => t.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'openfaas'));
    const egress = policies.filter(toOpenfaas);
    expect(egress.map((p) => p.spec?.podSelector.matchLabels)).toEqual([{ 'app.kubernetes.io/component': 'dispatcher' }]);
    const functionsIngress = policies.filter((p) => p.spec?.podSelector.matchLabels?.['app.kubernetes.io/component'] === 'function' && p.spec.ingress);
    const fromOpenfaas = functionsIngress.flatMap((p) => p.spec!.ingress!.flatMap((i) => (i.from ?? []).filter((f) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'openfaas')));
    expect(fromOpenfaas.length).toBeGreaterThan(0);
    for (const f of fromOpenfaas) expect(f.podSelector?.matchLabels).toEqual({ app: 'gateway' });
  });

  it('keeps the gateway (namespace openfaas, applied on its own) for ingress-nginx, the dispatcher, Prometheus and OpenFaaS itself', () => {
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'k8s', 'openfaas', 'gateway-networkpolicy.yaml'), 'utf8')).map((d) => d.toJS());
    expect(docs).toHaveLength(1);
    const policy = new NetworkPolicy(docs[0] as never);
    policy.validate();
    expect(policy.metadata?.namespace).toBe('openfaas');
    expect(policy.spec?.podSelector.matchLabels).toEqual({ app: 'gateway' });
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    const peers = (policy.spec?.ingress ?? []).flatMap((i) => i.from ?? []);
    const fromAether = peers.filter((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'aether');
    expect(fromAether.map((p) => p.podSelector?.matchLabels)).toEqual([{ 'app.kubernetes.io/component': 'dispatcher' }]);
    // No peer without a namespace or pod restriction (ipBlock, or an empty rule) opens it to the cluster.
    for (const p of peers) expect(p.ipBlock, JSON.stringify(p)).toBeUndefined();
    for (const i of policy.spec?.ingress ?? []) expect(i.from?.length, JSON.stringify(i)).toBeGreaterThan(0);
  });

  it('denies all traffic by default and only then allows specific flows', () => {
    const policies = ofKind('NetworkPolicy').map((o) => new NetworkPolicy(o as never));
    const denyAll = policies.find(
      (p) =>
        Object.keys(p.spec?.podSelector ?? {}).length === 0 &&
        p.spec?.ingress === undefined &&
        p.spec?.egress === undefined &&
        [...(p.spec?.policyTypes ?? [])].sort().join() === 'Egress,Ingress',
    );
    expect(denyAll).toBeDefined();
    // The Kraken-facing internet egress is limited to pods stack.yml labels for it.
    const internet = policies.filter((p) => p.spec?.egress?.some((e) => e.to?.some((t) => t.ipBlock?.cidr === '0.0.0.0/0')));
    for (const p of internet) expect(Object.keys(p.spec?.podSelector.matchLabels ?? {}).length, p.metadata?.name).toBeGreaterThan(0);
  });

  it('scrapes every function pod and alerts on function down, job failures and HALTED accounts (D-4, D-5)', () => {
    const monitor = specOf(podMonitorSpec)(named('PodMonitor', 'aether-functions'));
    expect(monitor.podMetricsEndpoints.map((e) => [e.port, e.path])).toEqual([['http', '/metrics']]);
    // /metrics answers 401 without the metrics token: every scrape sends it from its Secret.
    for (const name of ['aether-functions', 'aether-dispatcher'])
      for (const e of specOf(podMonitorSpec)(named('PodMonitor', name)).podMetricsEndpoints)
        expect(e['authorization'], name).toEqual({ type: 'Bearer', credentials: { name: 'aether-metrics-token', key: 'aether-metrics-token' } });
    expect(JSON.stringify(monitor.selector)).toContain('faas_function');

    const rules = ofKind('PrometheusRule').flatMap((r) => specOf(prometheusRuleSpec)(r).groups.flatMap((g) => g.rules));
    const exprOf = (alert: string) => rules.find((r) => r.alert === alert)?.expr ?? '';
    expect(exprOf('AetherFunctionDown')).toContain('kube_deployment_status_replicas_available');
    expect(exprOf('AetherJobFailures')).toMatch(/aether_jobs_total\{[^}]*outcome=~"failed\|rejected"/);
    expect(exprOf('AetherAccountHalted')).toContain('aether_account_halted');
  });

  it('scrapes the dispatcher, where job outcomes are counted, and alerts at once on a failed order job and a Kraken lockout', () => {
    // The dispatcher's pods carry no faas_function label: without their own PodMonitor (and a policy
    // letting Prometheus in) no job series would exist and the job alerts could never fire.
    const dispatcherPods = (named('Deployment', 'aether-dispatcher') as K8sObject & { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
    const monitor = specOf(podMonitorSpec)(named('PodMonitor', 'aether-dispatcher'));
    expect(monitor.podMetricsEndpoints.map((e) => [e.port, e.path])).toEqual([['http', '/metrics']]);
    const selector = (monitor.selector as { matchLabels?: Record<string, string> }).matchLabels ?? {};
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(selector)) expect(dispatcherPods[k], k).toBe(v);
    const policies = ofKind('NetworkPolicy').map((o) => new NetworkPolicy(o as never));
    const scrape = policies.find(
      (p) =>
        Object.entries(p.spec?.podSelector.matchLabels ?? {}).every(([k, v]) => dispatcherPods[k] === v) &&
        p.spec?.ingress?.some((i) => i.from?.some((f) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring') && i.ports?.some((port) => port.port === 8080)),
    );
    expect(scrape, 'a NetworkPolicy letting Prometheus reach the dispatcher on 8080').toBeDefined();

    const rules = ofKind('PrometheusRule').flatMap((r) => specOf(prometheusRuleSpec)(r).groups.flatMap((g) => g.rules));
    const rule = (alert: string) => rules.find((r) => r.alert === alert);
    const order = rule('AetherOrderJobFailed');
    expect(order?.expr).toMatch(/aether_jobs_total\{[^}]*queue="order"[^}]*outcome=~"failed\|rejected"/);
    expect(order?.for).toBeUndefined(); // the first failed order job fires it
    expect(order?.labels?.['severity']).toBe('critical');
    const lockout = rule('AetherKrakenLockedOut');
    expect(lockout?.expr).toMatch(/aether_kraken_locked_out\{[^}]*\}.*== 1/s);
    expect(lockout?.labels?.['severity']).toBe('critical');
    expect(rules.map((r) => r.expr).join('\n')).not.toContain('hedge"');
  });

  it('ships a Grafana dashboard charting every Aether metric', () => {
    const cm = new ConfigMap(named('ConfigMap', 'aether-grafana-dashboard') as never);
    expect(cm.metadata?.labels?.['grafana_dashboard']).toBe('1');
    const dashboard = z
      .object({ panels: z.array(z.object({ title: z.string(), targets: z.array(z.object({ expr: z.string() })) })) })
      .parse(JSON.parse(cm.data?.['aether-dashboard.json'] ?? 'null'));
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const metric of [
      'aether_http_request_duration_seconds',
      'aether_jobs_total',
      'aether_job_duration_seconds',
      'aether_orders_total',
      'aether_equity_usd',
      'aether_drawdown_ratio',
      'aether_hedge_ratio',
      'aether_account_halted',
      'aether_kraken_locked_out',
    ]) {
      expect(exprs, metric).toContain(metric);
    }
  });
});

/** Long high-entropy base64 runs are what leaked API secrets look like; paths and names are not. */
function keyLikeRuns(text: string): string[] {
  const entropy = (s: string): number => {
    const counts = new Map<string, number>();
    for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    return [...counts.values()].reduce((h, n) => h - (n / s.length) * Math.log2(n / s.length), 0);
  };
  return (text.match(/[A-Za-z0-9+/]{40,}={0,2}/g) ?? []).filter((run) => entropy(run) > 4.5);
}

describe('kubectl kustomize k8s/overlays/production-ce', () => {
  it('renders production without the Function objects (OpenFaaS CE deploys stack.yml instead)', () => {
    const ce = rendered(OVERLAY_CE);
    expect(ce.some((o) => o.kind === 'Function')).toBe(false);
    expect(ce).toEqual(rendered().filter((o) => o.kind !== 'Function'));
  });
});

describe('committed deployment files', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });

  it('the key detector flags a Kraken-style secret, not a JSON patch path', () => {
    // Kraken's published API-signing example secret (DESIGN.md §5), not a live key.
    const kraken = 'kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==';
    expect(keyLikeRuns(`api-secret: ${kraken}`)).toEqual([kraken]);
    expect(keyLikeRuns('path: /spec/volumeClaimTemplates/0/spec/storageClassName')).toEqual([]);
  });

  it('build one image with what `aether serve` and `aether dispatch` read at run time', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(dockerfile).toMatch(/^FROM node:20-slim/m);
    expect(dockerfile).toContain('npm ci --omit=dev');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    for (const needed of ['package.json', 'package-lock.json', 'stack.yml', 'bin', 'lib', 'schema', 'functions']) {
      expect(copied, needed).toContain(needed);
      expect(ignored, needed).not.toContain(needed);
    }
    expect(dockerfile).toContain('node bin/aether.js serve $FUNCTION');
    expect(dockerfile).toContain('upstream_url=http://127.0.0.1:3000');
    expect(dockerfile).toContain('PORT=3000');
  });

  it('hold no key material (PEM private keys, high-entropy base64)', () => {
    const suspicious = [...files(join(ROOT, 'k8s')), join(ROOT, 'stack.yml'), join(ROOT, 'Dockerfile')].filter((path) => {
      const text = readFileSync(path, 'utf8');
      return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || keyLikeRuns(text).length > 0;
    });
    expect(suspicious.map((p) => relative(ROOT, p))).toEqual([]);
  });
});
