/**
 * The typed view of `stack.yml`, the OpenFaaS stack file: which functions exist, what each mounts,
 * and the cron schedules (`aether/schedule`) that become BullMQ job schedulers — registered by
 * `aether start` in the embedded runtime and by `aether dispatch` in the cluster — so every job,
 * the scheduled ones included, reaches its function through the dispatcher, signed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { APP_ROOT } from '../app-root.ts';
import { ORDER_FUNCTION_PREFIX } from '../queue/jobs.ts';
import { CronError, parseCron } from './cron.ts';

/** The annotation holding a function's cron schedule (UTC): its queue gets a BullMQ job scheduler. */
export const SCHEDULE_ANNOTATION = 'aether/schedule';
/** OpenFaaS cron-connector's trigger: it POSTs unsigned calls, which every job function refuses. */
const CRON_CONNECTOR_TOPIC = 'cron-function';
export const KRAKEN_SECRET_PREFIX = 'kraken-';
/** OpenFaaS function name of the order function serving one account (`order-<account>`). */
export { ORDER_FUNCTION_PREFIX };

const SCALE_LABELS = ['com.openfaas.scale.min', 'com.openfaas.scale.max', 'com.openfaas.scale.target'] as const;

// RFC 1123 labels: what Kubernetes accepts as Deployment, Service and Secret names.
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 name')
  .max(63);

const stringMap = z.record(z.string(), z.string());

const resources = z.strictObject({
  memory: z.string().regex(/^\d+(Mi|Gi)$/, 'memory like 256Mi or 1Gi').optional(),
  cpu: z.string().regex(/^(\d+m|\d+(\.\d+)?)$/, 'cpu like 100m or 1').optional(),
});

export const stackFunctionSchema = z
  .strictObject({
    lang: z.string().min(1),
    handler: z.string().regex(/^\.\/functions\/[a-z0-9-]+$/, 'must be ./functions/<folder>'),
    image: z.string().regex(/^[a-z0-9.\-/:]+:[\w.-]+$/, 'must be a tagged image reference'),
    skip_build: z.boolean().optional(),
    readonly_root_filesystem: z.boolean().optional(),
    environment: stringMap.optional(),
    secrets: z.array(dnsLabel).optional(),
    labels: stringMap.optional(),
    annotations: stringMap.optional(),
    limits: resources.optional(),
    requests: resources.optional(),
  })
  .superRefine((fn, ctx) => {
    const annotations = fn.annotations ?? {};
    if (annotations['topic'] === CRON_CONNECTOR_TOPIC || annotations['schedule'] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['annotations'],
        message: `the OpenFaaS cron-connector (topic: ${CRON_CONNECTOR_TOPIC}, schedule) cannot sign job calls: schedule with ${SCHEDULE_ANNOTATION}`,
      });
    }
    const schedule = annotations[SCHEDULE_ANNOTATION];
    if (schedule !== undefined) {
      try {
        parseCron(schedule);
      } catch (error) {
        if (!(error instanceof CronError)) throw error;
        ctx.addIssue({ code: 'custom', path: ['annotations', SCHEDULE_ANNOTATION], message: error.message });
      }
    }
    const labels = fn.labels ?? {};
    for (const key of SCALE_LABELS) {
      const value = labels[key];
      if (value !== undefined && !/^[1-9]\d*$/.test(value)) {
        ctx.addIssue({ code: 'custom', path: ['labels', key], message: 'must be a positive integer' });
      }
    }
    const min = Number(labels['com.openfaas.scale.min'] ?? '1');
    const max = Number(labels['com.openfaas.scale.max'] ?? String(min));
    if (min > max) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: `scale.min ${min} exceeds scale.max ${max}` });
    }
    if (new Set(fn.secrets ?? []).size !== (fn.secrets ?? []).length) {
      ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'lists a secret twice' });
    }
  });

export const stackSchema = z.strictObject({
  version: z.literal(1.0),
  provider: z.strictObject({ name: z.literal('openfaas'), gateway: z.url() }),
  functions: z.record(z.string(), stackFunctionSchema).superRefine((functions, ctx) => {
    const names = Object.keys(functions);
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'no functions' });
    for (const name of names) {
      if (!dnsLabel.safeParse(name).success) {
        ctx.addIssue({ code: 'custom', path: [name], message: `function name "${name}" must be a lowercase RFC 1123 name` });
      }
    }
  }),
});

export type Stack = z.infer<typeof stackSchema>;
export type StackFunction = z.infer<typeof stackFunctionSchema>;

export class StackError extends Error {
  override readonly name = 'StackError';
}

/** Parses stack.yml text; `source` names the file in error messages. */
export function parseStack(text: string, source = 'stack.yml'): Stack {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new StackError(`${source} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  const result = stackSchema.safeParse(doc);
  if (!result.success) throw new StackError(`${source} is invalid:\n${z.prettifyError(result.error)}`);
  return result.data;
}

/** The app's stack.yml, found from the code so `aether` works from any directory. */
export const DEFAULT_STACK_PATH = join(APP_ROOT, 'stack.yml');

/** Reads and validates a stack file (a relative `path` resolves from the working directory). */
export function loadStack(path = DEFAULT_STACK_PATH): Stack {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new StackError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseStack(text, path);
}

export function functionNames(stack: Stack): string[] {
  return Object.keys(stack.functions);
}

/** Scheduled functions in file order. */
export function cronSchedules(stack: Stack): Array<{ function: string; schedule: string }> {
  return Object.entries(stack.functions).flatMap(([name, fn]) => {
    const schedule = fn.annotations?.[SCHEDULE_ANNOTATION];
    return schedule !== undefined ? [{ function: name, schedule }] : [];
  });
}

/** The folder under functions/ that holds a function's handler (`./functions/order` → `order`). */
export function handlerFolder(fn: StackFunction): string {
  return fn.handler.slice('./functions/'.length);
}

/**
 * Every breach of the Kraken key isolation rule: `order-<account>` mounts exactly
 * `kraken-<account>` (and says AETHER_ACCOUNT=<account>); no other function mounts any kraken secret.
 */
export function secretIsolationViolations(stack: Stack): string[] {
  const violations: string[] = [];
  for (const [name, fn] of Object.entries(stack.functions)) {
    const kraken = (fn.secrets ?? []).filter((s) => s.startsWith(KRAKEN_SECRET_PREFIX));
    if (!name.startsWith(ORDER_FUNCTION_PREFIX)) {
      for (const secret of kraken) violations.push(`${name} mounts ${secret} but is not an order function`);
      continue;
    }
    const account = name.slice(ORDER_FUNCTION_PREFIX.length);
    const own = `${KRAKEN_SECRET_PREFIX}${account}`;
    if (!kraken.includes(own)) violations.push(`${name} does not mount its own ${own}`);
    for (const secret of kraken) {
      if (secret !== own) violations.push(`${name} mounts ${secret}, which belongs to another account`);
    }
    const declared = fn.environment?.['AETHER_ACCOUNT'];
    if (declared !== account) {
      violations.push(`${name} has AETHER_ACCOUNT=${declared ?? '(unset)'}, expected ${account}`);
    }
  }
  return violations;
}

/** A Go-style duration of stack.yml's timeouts (`30s`, `2m`, `1h`, `500ms`) in milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new StackError(`duration "${text}" must be a whole number of ms, s, m or h`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/**
 * How long a function may run (its `exec_timeout`), by function name; `order-<account>` without an
 * entry of its own (an account added since the file was written) takes the order functions' value.
 */
export function functionTimeouts(stack: Stack, fallbackMs = 120_000): (name: string) => number {
  const own = new Map(Object.entries(stack.functions).flatMap(([name, fn]) => {
    const t = fn.environment?.['exec_timeout'];
    return t ? [[name, durationMs(t)] as const] : [];
  }));
  const order = [...own].find(([name]) => name.startsWith(ORDER_FUNCTION_PREFIX))?.[1];
  return (name) => own.get(name) ?? (name.startsWith(ORDER_FUNCTION_PREFIX) ? order : undefined) ?? fallbackMs;
}

/**
 * The `order-<account>` entry for a new account, from an existing order function of the stack (same
 * image, limits, scaling, timeouts): its own FUNCTION, AETHER_ACCOUNT, `kraken-<account>` secret and
 * `aether/account` label, and no other account's key.
 */
export function orderFunctionFor(stack: Stack, account: string): StackFunction {
  if (!dnsLabel.safeParse(`${ORDER_FUNCTION_PREFIX}${account}`).success || !/^[a-z0-9][a-z0-9-]{0,39}$/.test(account)) {
    throw new StackError(`account slug "${account}" must be lowercase letters, digits and dashes (at most 40)`);
  }
  const template = Object.entries(stack.functions).find(([name]) => name.startsWith(ORDER_FUNCTION_PREFIX))?.[1];
  if (!template) throw new StackError('the stack has no order-<account> function to copy');
  const fn = structuredClone(template);
  fn.environment = { ...fn.environment, FUNCTION: `${ORDER_FUNCTION_PREFIX}${account}`, AETHER_ACCOUNT: account };
  fn.secrets = [...(fn.secrets ?? []).filter((s) => !s.startsWith(KRAKEN_SECRET_PREFIX)), `${KRAKEN_SECRET_PREFIX}${account}`];
  fn.labels = { ...fn.labels, 'aether/account': account };
  return fn;
}

/** The OpenFaaS operator's Function object for a stack entry (what k8s/base/functions/<name>.yaml holds). */
export function functionResource(name: string, fn: StackFunction, namespace = 'aether'): Record<string, unknown> {
  const spec: Record<string, unknown> = { name, image: fn.image };
  if (fn.readonly_root_filesystem !== undefined) spec['readOnlyRootFilesystem'] = fn.readonly_root_filesystem;
  for (const key of ['environment', 'secrets', 'labels', 'annotations', 'requests', 'limits'] as const) {
    if (fn[key] !== undefined) spec[key] = fn[key];
  }
  return {
    apiVersion: 'openfaas.com/v1',
    kind: 'Function',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'aether', 'app.kubernetes.io/component': 'function' },
    },
    spec,
  };
}

/** The empty holder of an account's Kraken key (k8s/base/kraken-secrets.yaml): no key material. */
export function krakenSecretResource(account: string, namespace = 'aether'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${KRAKEN_SECRET_PREFIX}${account}`, namespace, labels: { 'app.kubernetes.io/part-of': 'aether', 'aether/account': account } },
    type: 'Opaque',
  };
}
