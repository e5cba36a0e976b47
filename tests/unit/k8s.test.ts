import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type K8sObject, kustomize } from '../helpers/kustomize.ts';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Certificate, ClusterIssuer, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { Gateway, GatewayClass, HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { ReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1';
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { AlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IPodSpec, IPodTemplateSpec } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseCron } from '../../lib/runtime/cron.ts';
import { functionResource, krakenSecretResource, loadStack, orderFunctionFor } from '../../lib/runtime/stack.ts';
import { CE_MAX_FUNCTIONS, CE_MAX_REPLICAS, ceStack, ceViolations } from '../../lib/runtime/stack-ce.ts';
import { runStack } from '../helpers/stack-cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OVERLAY = join(ROOT, 'k8s', 'overlays', 'production');
const OVERLAY_CE = join(ROOT, 'k8s', 'overlays', 'production-ce');
const OPENFAAS = join(ROOT, 'k8s', 'openfaas');
const NAMESPACE = 'aether';
const stack = loadStack(join(ROOT, 'stack.yml'));

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
// Stricter than the CRD on purpose: a misspelt rule field would be ignored by the operator.
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
// openfaas.com/v1 Profile, after the CRD in openfaas/faas-netes (chart/openfaas/artifacts/crds.yaml):
// every field optional; podSecurityContext is a core PodSecurityContext.
const profileSpec = z.strictObject({
  podSecurityContext: z
    .strictObject({
      runAsNonRoot: z.boolean().optional(),
      runAsUser: z.number().int().optional(),
      runAsGroup: z.number().int().optional(),
      fsGroup: z.number().int().optional(),
      fsGroupChangePolicy: z.enum(['Always', 'OnRootMismatch']).optional(),
      supplementalGroups: z.array(z.number().int()).optional(),
      seccompProfile: z.strictObject({ type: z.enum(['RuntimeDefault', 'Localhost', 'Unconfined']), localhostProfile: z.string().optional() }).optional(),
    })
    .optional(),
  runtimeClassName: z.string().optional(),
  priorityClassName: z.string().optional(),
  tolerations: z.array(z.looseObject({})).optional(),
  affinity: z.looseObject({}).optional(),
  topologySpreadConstraints: z.array(z.looseObject({})).optional(),
  dnsPolicy: z.string().optional(),
  dnsConfig: z.looseObject({}).optional(),
  resources: z.looseObject({}).optional(),
  strategy: z.looseObject({}).optional(),
});
// kyverno.io/v1 Policy: the fields this repository uses, after Kyverno's CRD.
const kyvernoPolicySpec = z.strictObject({
  failurePolicy: z.enum(['Fail', 'Ignore']).optional(),
  rules: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(63),
        match: z.strictObject({ any: z.array(z.strictObject({ resources: z.looseObject({ kinds: z.array(z.string()).min(1) }) })).min(1) }),
        mutate: z.strictObject({ patchStrategicMerge: z.looseObject({}) }),
      }),
    )
    .min(1),
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
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'gateway.networking.k8s.io/v1/GatewayClass': model(GatewayClass),
  'gateway.networking.k8s.io/v1/Gateway': model(Gateway),
  'gateway.networking.k8s.io/v1/HTTPRoute': model(HTTPRoute),
  'gateway.networking.k8s.io/v1beta1/ReferenceGrant': model(ReferenceGrant),
  'cert-manager.io/v1/ClusterIssuer': model(ClusterIssuer),
  'cert-manager.io/v1/Issuer': model(Issuer),
  'cert-manager.io/v1/Certificate': model(Certificate),
  'monitoring.coreos.com/v1/PodMonitor': (o) => {
    model(PodMonitor)(o);
    specOf(podMonitorSpec)(o);
  },
  'monitoring.coreos.com/v1/PrometheusRule': (o) => {
    model(PrometheusRule)(o);
    specOf(prometheusRuleSpec)(o);
  },
  'monitoring.coreos.com/v1alpha1/AlertmanagerConfig': model(AlertmanagerConfig),
  'openfaas.com/v1/Function': (o) => void specOf(functionSpec)(o),
  'openfaas.com/v1/Profile': (o) => void specOf(profileSpec)(o),
  'kyverno.io/v1/Policy': (o) => void specOf(kyvernoPolicySpec)(o),
};
/** Every object validated by the schema of its kind; a kind without one is itself a failure. */
function schemaFailures(objects: K8sObject[]): string[] {
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
  return failures;
}
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterIssuer', 'GatewayClass']);

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
const migrateJob = (): Job => {
  const jobs = ofKind('Job').filter((o) => o.metadata.name.startsWith('aether-migrate-'));
  expect(jobs).toHaveLength(1);
  return new Job(jobs[0] as never);
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
  it('renders objects that all pass their schema (kubernetes-models and its Gateway API, cert-manager and prometheus-operator packages; zod for the OpenFaaS and Kyverno CRDs)', () => {
    const objects = rendered();
    expect(objects.length).toBeGreaterThan(20);
    expect(schemaFailures(objects)).toEqual([]);
    // Each CRD family is present, so its validator ran.
    for (const kind of ['Gateway', 'HTTPRoute', 'GatewayClass', 'ClusterIssuer', 'Certificate', 'PodMonitor', 'PrometheusRule', 'AlertmanagerConfig', 'Function', 'Policy'])
      expect(objects.some((o) => o.kind === kind), kind).toBe(true);
  });

  it('the validators catch a broken object of each CRD family', () => {
    const broken: K8sObject[] = [
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'x' }, spec: { rules: [{ backendRefs: [{ name: 'gateway', port: '8080' }] }] } } as K8sObject,
      { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'x' }, spec: { secretName: 'x' } } as K8sObject,
      { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: 'x' }, spec: { selector: {}, podMetricsEndpoints: [{ port: 8080, path: '/metrics' }] } } as K8sObject,
      { apiVersion: 'openfaas.com/v1', kind: 'Function', metadata: { name: 'x' }, spec: { name: 'x', image: 'i:1', secret: ['typo'] } } as K8sObject,
      { apiVersion: 'openfaas.com/v1', kind: 'Profile', metadata: { name: 'x' }, spec: { podSecurityContext: { runAsUser: 'node' } } } as K8sObject,
    ];
    expect(schemaFailures(broken)).toHaveLength(broken.length);
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

  it('documents a `kubectl create secret` command for every referenced Secret that is not rendered or issued by cert-manager', () => {
    const readme = readFileSync(join(ROOT, 'k8s', 'README.md'), 'utf8');
    const rendered = new Set(ofKind('Secret').map((s) => s.metadata.name));
    // cert-manager writes these itself (Certificate spec.secretName; the Gateway's listener certificate).
    const issued = new Set([...ofKind('Certificate').map((c) => (c as K8sObject & { spec: { secretName: string } }).spec.secretName), 'aether-tls']);
    const referenced = new Set<string>();
    for (const f of ofKind('Function')) for (const s of specOf(functionSpec)(f).secrets ?? []) referenced.add(s);
    for (const [, pod] of podSpecs()) {
      for (const v of pod.volumes ?? []) if (v.secret?.secretName) referenced.add(v.secret.secretName);
      for (const c of pod.containers) for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) referenced.add(e.valueFrom.secretKeyRef.name);
    }
    for (const a of ofKind('AlertmanagerConfig'))
      for (const r of new AlertmanagerConfig(a as never).spec?.receivers ?? []) for (const c of r.slackConfigs ?? []) if (c.apiURL?.name) referenced.add(c.apiURL.name);
    expect(referenced).toContain('aether-ca');
    expect(referenced).toContain('aether-alertmanager-slack');
    const undocumented = [...referenced].filter(
      (name) => !rendered.has(name) && !issued.has(name) && !new RegExp(`create secret generic ${name}\\b`).test(readme),
    );
    expect(undocumented).toEqual([]);
    // The documented URLs use TLS to TimescaleDB and Redis, verifying the server's name.
    for (const line of readme.split('\n').filter((l) => /--from-literal=database(-owner)?-url=/.test(l))) expect(line).toContain('sslmode=verify-full');
    for (const line of readme.split('\n').filter((l) => /--from-literal=redis-url=/.test(l))) expect(line).toContain('rediss://');
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

  it('probes every Function on /livez (the process) and /readyz (its dependencies), with the restricted Profile, requests and limits', () => {
    for (const f of ofKind('Function')) {
      const spec = specOf(functionSpec)(f);
      expect(spec.annotations?.['com.openfaas.health.http.path'], f.metadata.name).toBe('/livez');
      expect(spec.annotations?.['com.openfaas.ready.http.path'], f.metadata.name).toBe('/readyz');
      expect(spec.annotations?.['com.openfaas.health.http.initialDelay'], f.metadata.name).toMatch(/^\d+s$/);
      expect(spec.annotations?.['com.openfaas.profile'], f.metadata.name).toBe('aether-restricted');
      expect(spec.requests?.cpu && spec.requests.memory && spec.limits?.cpu && spec.limits.memory, f.metadata.name).toBeTruthy();
      expect(spec.readOnlyRootFilesystem, f.metadata.name).toBe(true);
    }
  });

  it('hardens function pods: the Profile sets the pod fields, Kyverno the container fields, and the namespace enforces `restricted`', () => {
    const profile = rendered(OPENFAAS).find((o) => o.kind === 'Profile' && o.metadata.name === 'aether-restricted');
    expect(profile?.metadata.namespace).toBe('openfaas');
    const pod = specOf(profileSpec)(profile!).podSecurityContext;
    expect(pod).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(Number.isInteger(pod?.runAsUser) && pod!.runAsUser! > 0, 'a numeric non-root user').toBe(true);
    // The image runs as the same numeric user (Dockerfile USER uid:gid).
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(new RegExp(`^USER ${pod!.runAsUser}(:${pod!.runAsGroup})?$`, 'm'));
    const policy = specOf(kyvernoPolicySpec)(named('Policy', 'aether-function-hardening'));
    expect(policy.failurePolicy).toBe('Fail');
    const rule = policy.rules[0]!;
    expect(rule.match.any[0]!.resources).toMatchObject({ kinds: ['Pod'], selector: { matchExpressions: [{ key: 'faas_function', operator: 'Exists' }] } });
    expect(rule.mutate.patchStrategicMerge).toEqual({ spec: { containers: [{ '(name)': '*', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] } });
    expect(named('Namespace', NAMESPACE).metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // Every other pod meets `restricted` by itself.
    for (const [name, spec] of podSpecs()) {
      expect(spec.securityContext, name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of spec.containers) expect(c.securityContext, `${name}/${c.name}`).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });

  it('gives every container of the other workloads probes, resources, a pinned image and no privilege escalation', () => {
    const specs = podSpecs();
    const migrate = migrateJob().metadata!.name!;
    expect(specs.map(([name]) => name)).toEqual(expect.arrayContaining(['aether-audit-anchor', 'aether-dispatcher', migrate, 'redis', 'timescaledb']));
    // Jobs and CronJobs run to completion, and the tls-reload sidecars are a sleep loop; everything else is probed.
    const unprobed = new Set([...ofKind('Job'), ...ofKind('CronJob')].map((o) => o.metadata.name));
    expect(unprobed).toContain(migrate);
    for (const [name, pod] of specs) {
      for (const c of pod.containers) {
        expect(c.image, name).toMatch(/:[\w.-]+$/);
        expect(c.image, name).not.toMatch(/:latest$/);
        expect(c.resources?.requests && c.resources.limits, name).toBeTruthy();
        expect(c.securityContext?.allowPrivilegeEscalation, name).toBe(false);
        if (!unprobed.has(name) && c.name !== 'tls-reload') {
          expect(c.livenessProbe, name).toBeDefined();
          expect(c.readinessProbe, name).toBeDefined();
        }
      }
    }
    // The dispatcher's liveness is the process alone (its port), readiness its queue backend.
    const dispatcher = new Deployment(named('Deployment', 'aether-dispatcher') as never).spec!.template.spec!.containers[0]!;
    expect(dispatcher.livenessProbe?.tcpSocket).toBeDefined();
    expect(dispatcher.livenessProbe?.httpGet).toBeUndefined();
    expect(dispatcher.readinessProbe?.httpGet?.path).toBe('/healthz');
  });

  it('names the migrate Job for its image tag, so a deploy of a new tag runs a new Job (the old template is immutable)', () => {
    const job = migrateJob();
    const image = job.spec!.template.spec!.containers[0]!.image!;
    const tag = image.split(':').at(-1)!;
    expect(job.metadata!.name).toBe(`aether-migrate-${tag}`);
    expect(job.spec!.ttlSecondsAfterFinished).toBeGreaterThan(0);
    // Rendering with another tag renames it.
    const kustomization = readFileSync(join(OVERLAY, 'kustomization.yaml'), 'utf8');
    expect(kustomization).toMatch(/name: aether-migrate-TAG[\s\S]*delimiter: ":"[\s\S]*index: 1/);
  });

  it('serves TimescaleDB and Redis over TLS only, with cert-manager certificates from the internal CA', () => {
    const certs = ofKind('Certificate').map((o) => new Certificate(o as never));
    const bySecret = new Map(certs.map((c) => [c.spec!.secretName, c]));
    const ca = bySecret.get('aether-internal-ca')!;
    expect(ca.spec?.isCA).toBe(true);
    for (const [secret, host] of [['timescaledb-tls', 'timescaledb'], ['redis-tls', 'redis']] as const) {
      const cert = bySecret.get(secret)!;
      expect(cert.spec?.dnsNames).toContain(`${host}.${NAMESPACE}.svc.cluster.local`);
      expect(cert.spec?.issuerRef.name).toBe('aether-internal');
    }
    expect((named('Issuer', 'aether-internal') as K8sObject & { spec: { ca: { secretName: string } } }).spec.ca.secretName).toBe('aether-internal-ca');

    const db = new StatefulSet(named('StatefulSet', 'timescaledb') as never).spec!.template.spec!;
    const args = (db.containers[0]!.args ?? []).join(' ');
    for (const want of ['ssl=on', 'ssl_cert_file=/etc/postgresql/tls/tls.crt', 'ssl_key_file=/etc/postgresql/tls/tls.key', 'hba_file=/etc/postgresql/hba/pg_hba.conf']) expect(args).toContain(want);
    expect(db.volumes?.find((v) => v.secret?.secretName === 'timescaledb-tls')).toBeDefined();
    const hba = (named('ConfigMap', 'timescaledb-hba') as K8sObject & { data: Record<string, string> }).data['pg_hba.conf']!;
    const hbaLines = hba.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    // Over TCP only `hostssl`: a plaintext `host` line would let a client skip TLS.
    expect(hbaLines.filter((l) => !l.startsWith('local')).every((l) => l.startsWith('hostssl'))).toBe(true);
    expect(hbaLines.some((l) => l.startsWith('hostssl'))).toBe(true);

    const redisConf = (named('ConfigMap', 'redis-config') as K8sObject & { data: Record<string, string> }).data['redis.conf']!;
    expect(redisConf).toMatch(/^port 0$/m);
    expect(redisConf).toMatch(/^tls-port 6379$/m);
  });

  it('caps Redis memory with noeviction (BullMQ) and reads its password from a mounted file, never argv or env', () => {
    const conf = (named('ConfigMap', 'redis-config') as K8sObject & { data: Record<string, string> }).data;
    expect(conf['redis.conf']).toMatch(/^maxmemory-policy noeviction$/m);
    const maxmemory = /^maxmemory (\d+)mb$/m.exec(conf['redis.conf']!);
    expect(maxmemory).not.toBeNull();
    const pod = new Deployment(named('Deployment', 'redis') as never).spec!.template.spec!;
    const redis = pod.containers.find((c) => c.name === 'redis')!;
    const limitMi = Number(/^(\d+)Gi$/.exec(String(redis.resources?.limits?.['memory']))?.[1] ?? NaN) * 1024;
    // Below the container limit, with room for the AOF rewrite's fork: refused writes, not an OOM kill.
    expect(Number(maxmemory![1])).toBeLessThan(limitMi * 0.75);
    for (const c of pod.containers) {
      expect(JSON.stringify([c.command, c.args]), c.name).not.toMatch(/requirepass|REDIS_PASSWORD|\$\(/);
      expect((c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef), c.name).toEqual([]);
    }
    expect(pod.volumes?.find((v) => v.secret?.secretName === 'redis-auth')).toBeDefined();
    expect(conf['start.sh']).toContain('/etc/redis/auth/redis-password');
    expect(conf['redis.conf']).toMatch(/^include \/run\/redis\/auth\.conf$/m);
  });

  it('serves HTTPS only through the Gateway API: a TLS listener with a cert-manager certificate, HTTP redirected, HSTS on every answer (D-2)', () => {
    const gateways = ofKind('Gateway').map((o) => new Gateway(o as never));
    expect(gateways).toHaveLength(1);
    const gateway = gateways[0]!;
    // The GatewayClass the overlay assumes is rendered, and names Envoy Gateway's controller.
    const gatewayClass = new GatewayClass(named('GatewayClass', gateway.spec.gatewayClassName) as never);
    expect(gatewayClass.spec.controllerName).toBe('gateway.envoyproxy.io/gatewayclass-controller');
    const listener = (name: string) => gateway.spec.listeners.find((l) => l.name === name)!;
    expect(listener('https')).toMatchObject({ protocol: 'HTTPS', port: 443, tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'aether-tls' }] } });
    expect(listener('http')).toMatchObject({ protocol: 'HTTP', port: 80 });
    const host = listener('https').hostname!;
    expect(host).toBe(listener('http').hostname);
    expect(host).not.toContain('*');

    // cert-manager's gateway-shim issues aether-tls through the annotated ClusterIssuer, whose HTTP-01
    // solver attaches its challenge route to this Gateway's http listener.
    const issuerName = gateway.metadata?.annotations?.['cert-manager.io/cluster-issuer'];
    const issuer = new ClusterIssuer(named('ClusterIssuer', issuerName ?? '(missing annotation)') as never);
    const parents = (issuer.spec?.acme?.solvers ?? []).flatMap((s) => s.http01?.gatewayHTTPRoute?.parentRefs ?? []);
    expect(parents).toEqual([{ name: gateway.metadata!.name, namespace: NAMESPACE, kind: 'Gateway', sectionName: 'http' }]);

    const routes = ofKind('HTTPRoute').map((o) => new HTTPRoute(o as never));
    for (const r of routes) expect(r.spec?.hostnames, r.metadata?.name).toEqual([host]);
    const on = (section: string) => routes.filter((r) => r.spec?.parentRefs?.some((p) => p.name === gateway.metadata!.name && p.sectionName === section));
    // Plain HTTP: one rule, a 301 to https, nothing forwarded (the ACME route is cert-manager's, Exact-matched).
    const http = on('http');
    expect(http).toHaveLength(1);
    expect(http[0]!.spec?.rules).toEqual([{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }]);
    // HTTPS: every rule that forwards sets HSTS.
    const https = on('https');
    expect(https).toHaveLength(1);
    const rules = https[0]!.spec?.rules ?? [];
    for (const rule of rules.filter((r) => r.backendRefs?.length)) {
      const hsts = rule.filters?.find((f) => f.type === 'ResponseHeaderModifier')?.responseHeaderModifier?.set?.find((h) => h.name === 'Strict-Transport-Security');
      expect(hsts?.value).toMatch(/^max-age=(\d+)/);
      expect(Number(/max-age=(\d+)/.exec(hsts!.value)![1])).toBeGreaterThanOrEqual(31_536_000);
    }
    expect(routes.length).toBe(http.length + https.length);
  });

  it('publishes the UI at / and the api function at /function/api, and nothing else of OpenFaaS (not /metrics)', () => {
    const route = new HTTPRoute(named('HTTPRoute', 'aether') as never);
    const rules = route.spec?.rules ?? [];
    // Gateway API precedence for these rules: the longest matching PathPrefix (whole segments) wins.
    const segmentPrefix = (prefix: string, path: string) => prefix === '/' || path === prefix || path.startsWith(`${prefix.replace(/\/$/, '')}/`);
    const resolve = (path: string): { forwardedTo?: string; redirectedTo?: string } => {
      let best: { rule: (typeof rules)[number]; prefix: string } | undefined;
      for (const rule of rules)
        for (const m of rule.matches ?? []) {
          expect(m.path?.type).toBe('PathPrefix');
          const prefix = m.path!.value!;
          if (segmentPrefix(prefix, path) && (!best || prefix.length > best.prefix.length)) best = { rule, prefix };
        }
      if (!best) return {};
      const redirect = best.rule.filters?.find((f) => f.type === 'RequestRedirect')?.requestRedirect;
      if (redirect) return { redirectedTo: redirect.path?.replaceFullPath ?? path };
      const rewrite = best.rule.filters?.find((f) => f.type === 'URLRewrite')?.urlRewrite?.path;
      // ReplacePrefixMatch of `/`: "/" becomes the replacement, "/x" the replacement + "/x".
      const rest = best.prefix === '/' ? (path === '/' ? '' : path) : path.slice(best.prefix.length);
      const forwarded = rewrite?.type === 'ReplacePrefixMatch' ? rewrite.replacePrefixMatch! + rest : path;
      return { forwardedTo: forwarded.replace(/\/\/+/g, '/') };
    };
    // Everything forwarded goes to the OpenFaaS gateway in its namespace, which a ReferenceGrant allows.
    for (const rule of rules) for (const b of rule.backendRefs ?? []) expect({ name: b.name, namespace: b.namespace, port: b.port }).toEqual({ name: 'gateway', namespace: 'openfaas', port: 8080 });
    const grants = rendered(OPENFAAS).filter((o) => o.kind === 'ReferenceGrant').map((o) => new ReferenceGrant(o as never));
    expect(grants.some((g) => g.spec?.from.some((f) => f.kind === 'HTTPRoute' && f.namespace === NAMESPACE) && g.spec?.to.some((t) => t.kind === 'Service' && t.name === 'gateway'))).toBe(true);

    expect(resolve('/function/api/auth/login')).toEqual({ forwardedTo: '/function/api/auth/login' });
    expect(resolve('/function/api')).toEqual({ forwardedTo: '/function/api' });
    expect(resolve('/function/api/accounts/company/trades.csv')).toEqual({ forwardedTo: '/function/api/accounts/company/trades.csv' });
    expect(resolve('/function/api/metricsx')).toEqual({ forwardedTo: '/function/api/metricsx' });
    // The UI: the api function serves it at its own `/`.
    expect(resolve('/')).toEqual({ forwardedTo: '/function/api' });
    expect(resolve('/assets/index.js')).toEqual({ forwardedTo: '/function/api/assets/index.js' });
    // Never the metrics, never another function or the gateway's /system API: those land inside the api function (its 404).
    for (const path of ['/function/api/metrics', '/function/api/metrics/', '/metrics']) expect(resolve(path), path).toEqual({ redirectedTo: '/' });
    for (const path of ['/function/tick', '/function/order-company/', '/function/apix', '/system/functions']) {
      const r = resolve(path);
      expect(r.forwardedTo, path).toBe(`/function/api${path}`);
    }
    for (const path of ['/', '/x', '/function/api/y', '/system/info', '/function/train']) {
      const target = resolve(path).forwardedTo ?? '/function/api';
      expect(target === '/function/api' || target.startsWith('/function/api/'), path).toBe(true);
    }
  });

  it('lets only the api service account touch Secrets, only the kraken-* ones, and only patch them (never read, list or create)', () => {
    const krakenSecrets = ofKind('Secret').map((s) => s.metadata.name).sort();
    // Other Roles (the backup's) may exist; none but this one names Secrets.
    const roles = ofKind('Role').map((o) => new Role(o as never)).filter((r) => (r.rules ?? []).some((rule) => rule.resources?.includes('secrets') || rule.resources?.includes('*')));
    expect(roles).toHaveLength(1);
    for (const rule of roles[0]!.rules ?? []) {
      expect(rule.apiGroups).toEqual(['']);
      expect(rule.resources).toEqual(['secrets']);
      expect([...(rule.resourceNames ?? [])].sort()).toEqual(krakenSecrets);
      expect(rule.verbs).toEqual(['patch']);
    }
    const bindings = ofKind('RoleBinding').map((o) => new RoleBinding(o as never)).filter((b) => b.roleRef.name === roles[0]!.metadata!.name);
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
    expect(owners).toEqual([migrateJob().metadata!.name]);
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
    const migrate = migrateJob().spec!.template.spec!;
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

  it('keeps the OpenFaaS gateway (k8s/openfaas, applied on its own) for the Envoy proxies, the dispatcher, Prometheus and OpenFaaS itself', () => {
    const objects = rendered(OPENFAAS);
    expect(schemaFailures(objects)).toEqual([]);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['NetworkPolicy/gateway-clients', 'Profile/aether-restricted', 'ReferenceGrant/aether-httproutes-to-gateway']);
    for (const o of objects) expect(o.metadata.namespace, o.kind).toBe('openfaas');
    const policy = new NetworkPolicy(objects.find((o) => o.kind === 'NetworkPolicy') as never);
    expect(policy.spec?.podSelector.matchLabels).toEqual({ app: 'gateway' });
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    const peers = (policy.spec?.ingress ?? []).flatMap((i) => i.from ?? []);
    const fromAether = peers.filter((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'aether');
    expect(fromAether.map((p) => p.podSelector?.matchLabels)).toEqual([{ 'app.kubernetes.io/component': 'dispatcher' }]);
    // The public path: only Envoy Gateway's proxy pods, not its whole namespace.
    const fromEnvoy = peers.filter((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'envoy-gateway-system');
    expect(fromEnvoy.map((p) => p.podSelector?.matchLabels)).toEqual([{ 'app.kubernetes.io/component': 'proxy', 'app.kubernetes.io/managed-by': 'envoy-gateway' }]);
    expect(JSON.stringify(policy)).not.toContain('ingress-nginx');
    // No peer without a namespace or pod restriction (ipBlock, or an empty rule) opens it to the cluster.
    for (const p of peers) expect(p.ipBlock, JSON.stringify(p)).toBeUndefined();
    for (const i of policy.spec?.ingress ?? []) expect(i.from?.length, JSON.stringify(i)).toBeGreaterThan(0);
    // cert-manager's HTTP-01 solver pods (in aether) admit the same proxies.
    const solver = new NetworkPolicy(named('NetworkPolicy', 'acme-http01-solver') as never);
    expect(solver.spec?.ingress?.[0]?.from?.[0]?.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'envoy-gateway-system' });
    expect(JSON.stringify(ofKind('NetworkPolicy'))).not.toContain('ingress-nginx');
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

  it('scrapes every function pod and alerts on what an operator must act on (D-4, D-5)', () => {
    const monitor = specOf(podMonitorSpec)(named('PodMonitor', 'aether-functions'));
    expect(monitor.podMetricsEndpoints.map((e) => [e.port, e.path])).toEqual([['http', '/metrics']]);
    // The functions' job series carry a `job` label of their own: honoured, not renamed exported_job.
    expect(monitor.podMetricsEndpoints[0]!['honorLabels']).toBe(true);
    // /metrics answers 401 without the metrics token: every scrape sends it from its Secret.
    for (const name of ['aether-functions', 'aether-dispatcher'])
      for (const e of specOf(podMonitorSpec)(named('PodMonitor', name)).podMetricsEndpoints)
        expect(e['authorization'], name).toEqual({ type: 'Bearer', credentials: { name: 'aether-metrics-token', key: 'aether-metrics-token' } });
    expect(JSON.stringify(monitor.selector)).toContain('faas_function');

    const rules = ofKind('PrometheusRule').flatMap((r) => specOf(prometheusRuleSpec)(r).groups.flatMap((g) => g.rules));
    const exprOf = (alert: string) => rules.find((r) => r.alert === alert)?.expr ?? '';
    expect(exprOf('AetherFunctionDown')).toContain('kube_deployment_status_replicas_available');
    expect(exprOf('AetherJobFailures')).toMatch(/aether_jobs_total\{[^}]*outcome=~"failed\|rejected"/);
    expect(exprOf('AetherFunctionJobsFailing')).toMatch(/aether_function_jobs_total\{[^}]*outcome="failed"/);
    expect(exprOf('AetherAccountHalted')).toContain('aether_account_halted');
    // The dead man's switch: the tick's last success, and its absence.
    expect(exprOf('AetherTickMissed')).toMatch(/time\(\) - max\(aether_function_job_last_success_timestamp_seconds\{[^}]*function="tick"/);
    expect(exprOf('AetherTickMissed')).toContain('absent_over_time(aether_function_job_last_success_timestamp_seconds');
    expect(exprOf('AetherSchedulerDown')).toContain('deployment="aether-dispatcher"');
    expect(exprOf('AetherMarketDataStale')).toContain('aether_market_candle_close_timestamp_seconds');
    expect(exprOf('AetherReconciliationMismatch')).toMatch(/aether_cycles_total\{[^}]*outcome="halted"/);
    expect(exprOf('AetherOrderLatencyHigh')).toMatch(/aether_function_job_duration_seconds_bucket\{[^}]*job="order"/);
    expect(exprOf('AetherKrakenErrorRate')).toContain('aether_kraken_call_failures_total');
    expect(exprOf('AetherKrakenRateLimitHeadroomLow')).toContain('aether_kraken_limiter_waits_total');
    expect(exprOf('AetherVolumeFilling')).toContain('kubelet_volume_stats_available_bytes');
    expect(exprOf('AetherCertificateExpiring')).toContain('certmanager_certificate_expiration_timestamp_seconds');
    // Every alert is scoped to the namespace (the AlertmanagerConfig only routes namespace="aether"),
    // carries a severity, and says what happened.
    for (const r of rules) {
      expect(r.expr, r.alert).toContain('namespace="aether"');
      expect(['warning', 'critical'], r.alert).toContain(r.labels?.['severity']);
      expect(r.annotations?.['summary'] && r.annotations['description'], r.alert).toBeTruthy();
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it('documents an Alertmanager receiver: an AlertmanagerConfig routing every alert, critical ones repeated hourly', () => {
    const config = new AlertmanagerConfig(named('AlertmanagerConfig', 'aether') as never);
    const receivers = new Set((config.spec?.receivers ?? []).map((r) => r.name));
    expect(receivers.size).toBeGreaterThan(0);
    expect(receivers).toContain(config.spec?.route?.receiver);
    for (const r of config.spec?.route?.routes ?? []) expect(receivers).toContain((r as { receiver: string }).receiver);
    const slack = config.spec?.receivers?.[0]?.slackConfigs?.[0];
    expect(slack?.apiURL).toEqual({ name: 'aether-alertmanager-slack', key: 'url' });
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

  it('ships Grafana dashboards: the overview, and one row per account with equity, PnL, exposure, drawdown vs limit, hedge and orders by outcome', () => {
    const cm = new ConfigMap(named('ConfigMap', 'aether-grafana-dashboard') as never);
    expect(cm.metadata?.labels?.['grafana_dashboard']).toBe('1');
    const dashboardSchema = z.object({
      templating: z.object({ list: z.array(z.looseObject({ name: z.string() })) }),
      panels: z.array(z.looseObject({ type: z.string(), title: z.string(), repeat: z.string().optional(), targets: z.array(z.object({ expr: z.string() })).optional() })),
    });
    const overview = dashboardSchema.parse(JSON.parse(cm.data?.['aether-dashboard.json'] ?? 'null'));
    const exprs = overview.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of ['aether_http_request_duration_seconds', 'aether_jobs_total', 'aether_job_duration_seconds', 'aether_orders_total', 'aether_equity_usd', 'aether_drawdown_ratio', 'aether_hedge_ratio', 'aether_account_halted', 'aether_kraken_locked_out'])
      expect(exprs, metric).toContain(metric);

    const accounts = dashboardSchema.parse(JSON.parse(cm.data?.['aether-accounts-dashboard.json'] ?? 'null'));
    expect(accounts.templating.list.map((v) => v.name)).toContain('account');
    expect(accounts.panels.find((p) => p.type === 'row')?.repeat).toBe('account');
    const panel = (title: RegExp) => {
      const found = accounts.panels.find((p) => title.test(p.title));
      expect(found, String(title)).toBeDefined();
      const e = (found!.targets ?? []).map((t) => t.expr).join('\n');
      expect(e).toContain('account="$account"');
      return e;
    };
    expect(panel(/^Equity/)).toContain('aether_equity_usd');
    expect(panel(/^PnL/)).toMatch(/aether_equity_usd[^\n]*offset 1d/);
    expect(panel(/^Exposure/)).toMatch(/aether_equity_usd.*aether_hedge_ratio/);
    const drawdown = panel(/drawdown vs limit/i);
    expect(drawdown).toContain('aether_daily_drawdown_ratio');
    expect(drawdown).toContain('aether_drawdown_limit_ratio');
    expect(panel(/^Hedge/)).toContain('aether_hedge_ratio');
    expect(panel(/^Orders by outcome/)).toMatch(/sum by \(status\) \(increase\(aether_orders_total/);
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

describe('kubectl kustomize k8s/overlays/production-ce (OpenFaaS CE: evaluation only)', () => {
  const ceFile = join(OVERLAY_CE, 'stack.yml');
  const ceText = readFileSync(ceFile, 'utf8');
  const ceDoc = parse(ceText) as { version: unknown; functions: Record<string, unknown> };

  it('renders production without what CE lacks: no Function objects, no Kyverno policy, the namespace at `baseline`', () => {
    const ce = rendered(OVERLAY_CE);
    expect(schemaFailures(ce)).toEqual([]);
    expect(ce.some((o) => o.kind === 'Function' || o.kind === 'Policy')).toBe(false);
    const ns = (objects: K8sObject[]) => objects.find((o) => o.kind === 'Namespace')!;
    expect(ns(ce).metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('baseline');
    const withoutNs = (objects: K8sObject[]) => objects.filter((o) => o.kind !== 'Namespace');
    expect(withoutNs(ce)).toEqual(withoutNs(rendered().filter((o) => o.kind !== 'Function' && o.kind !== 'Policy')));
    expect(readFileSync(join(OVERLAY_CE, 'kustomization.yaml'), 'utf8')).toMatch(/^# EVALUATION ONLY/m);
  });

  it('deploys functions from its stack.yml, which is what `aether stack ce` prints from stack.yml', async () => {
    const { code, out } = await runStack(['ce']);
    expect(code).toBe(0);
    expect(ceText, 'regenerate: npx aether stack ce > k8s/overlays/production-ce/stack.yml').toBe(out);
    // faas-cli reads the stack version as the string "1.0".
    expect(ceDoc.version).toBe('1.0');
    expect({ ...ceDoc, version: 1 }).toEqual(ceStack(stack));
  });

  it('passes CE\'s validation: at most 15 functions and 5 replicas, no scale.target, no Standard-only annotations, no pull secrets', () => {
    const ce = ceStack(stack);
    expect(ceViolations(ce)).toEqual([]);
    expect(Object.keys(ceDoc.functions)).toHaveLength(Object.keys(stack.functions).length);
    expect(Object.keys(ceDoc.functions).length).toBeLessThanOrEqual(CE_MAX_FUNCTIONS);
    for (const [name, fn] of Object.entries(ce.functions)) {
      const labels = fn.labels ?? {};
      expect(Number(labels['com.openfaas.scale.max']), name).toBeLessThanOrEqual(CE_MAX_REPLICAS);
      expect(Number(labels['com.openfaas.scale.min'] ?? 1), name).toBeLessThanOrEqual(Number(labels['com.openfaas.scale.max']));
      expect(labels['com.openfaas.scale.target'], name).toBeUndefined();
      expect(Object.keys(fn.annotations ?? {}).filter((k) => k.startsWith('com.openfaas.')), name).toEqual([]);
      // Everything else is production's: same image, secrets, environment (the Kraken key isolation holds).
      const prod = stack.functions[name]!;
      expect([fn.image, fn.secrets, fn.environment], name).toEqual([prod.image, prod.secrets, prod.environment]);
    }
    // The production stack itself is not CE-valid (api and score autoscale beyond 5): hence the CE file.
    expect(ceViolations(stack)).toEqual(expect.arrayContaining([expect.stringMatching(/^api: label com\.openfaas\.scale\.target/), expect.stringMatching(/^api: com\.openfaas\.scale\.max 6 exceeds/)]));
  });

  it('ceViolations names each broken CE rule', () => {
    const base = ceStack(stack);
    const edited = (edit: (s: typeof base) => void) => {
      const copy = structuredClone(base);
      edit(copy);
      return ceViolations(copy);
    };
    expect(edited((s) => { s.functions['tick']!.labels!['com.openfaas.scale.max'] = '6'; })).toEqual(['tick: com.openfaas.scale.max 6 exceeds CE\'s 5']);
    expect(edited((s) => { delete s.functions['tick']!.labels!['com.openfaas.scale.max']; })).toEqual([expect.stringContaining('tick: no com.openfaas.scale.max')]);
    expect(edited((s) => { s.functions['api']!.labels!['com.openfaas.scale.target'] = '50'; })).toEqual(['api: label com.openfaas.scale.target is not accepted by CE']);
    expect(edited((s) => { s.functions['api']!.annotations = { 'com.openfaas.profile': 'aether-restricted' }; })).toEqual(['api: annotation com.openfaas.profile is OpenFaaS Standard only']);
    expect(edited((s) => { s.functions['api']!.secrets!.push('registry-pull'); })).toEqual([expect.stringContaining('image pull secret')]);
    expect(
      edited((s) => {
        for (let i = 0; i < 8; i++) s.functions[`order-extra-${i}`] = structuredClone(s.functions['order-company']!);
      }),
    ).toEqual(['16 functions: CE allows at most 15']);
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

  it('build one image, on a supported Node LTS pinned by digest, running `aether serve` as a numeric user', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    // Every base image: Node 22 or 24, each pinned by digest (through ARGs or directly).
    const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!.replace(/^\$\{(\w+)\}$/, (_, a: string) => args[a] ?? a)).filter((b) => !/^[a-z]+$/.test(b));
    expect(bases.length).toBeGreaterThan(0);
    for (const b of bases) expect(b, b).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(bases.filter((b) => b.startsWith('node:')).every((b) => /^node:(22|24)[.\w-]*@/.test(b))).toBe(true);
    expect(dockerfile).toContain('npm ci --omit=dev');
    for (const needed of ['package.json', 'package-lock.json', 'stack.yml', 'bin', 'lib', 'schema', 'functions']) expect(ignored, needed).not.toContain(needed);
    expect(dockerfile).toContain('node bin/aether.js serve $FUNCTION');
    expect(dockerfile).toContain('upstream_url=http://127.0.0.1:3000');
    expect(dockerfile).toContain('PORT=3000');
    expect(dockerfile).toMatch(/^USER \d+(:\d+)?$/m);
  });

  it('hold no key material (PEM private keys, high-entropy base64)', () => {
    const suspicious = [...files(join(ROOT, 'k8s')), join(ROOT, 'stack.yml'), join(ROOT, 'Dockerfile')].filter((path) => {
      const text = readFileSync(path, 'utf8');
      return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || keyLikeRuns(text).length > 0;
    });
    expect(suspicious.map((p) => relative(ROOT, p))).toEqual([]);
  });
});
