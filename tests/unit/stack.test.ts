import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseCron } from '../../lib/runtime/cron.ts';
import {
  type Stack,
  StackError,
  cronSchedules,
  durationMs,
  functionNames,
  functionTimeouts,
  handlerFolder,
  loadStack,
  orderFunctionFor,
  parseStack,
  secretIsolationViolations,
  stackSchema,
} from '../../lib/runtime/stack.ts';
import { JOB_QUEUES } from '../../lib/queue/jobs.ts';
import { runStack } from '../helpers/stack-cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const STACK_PATH = join(ROOT, 'stack.yml');
const stackText = readFileSync(STACK_PATH, 'utf8');
const stack = loadStack(STACK_PATH);

const ACCOUNTS = ['company', 'director-1', 'director-2'];
// No `hedge` function: the hedge is a phase of each account's order job, where its key is mounted.
const EXPECTED = ['api', 'tick', 'score', 'order-company', 'order-director-1', 'order-director-2', 'report', 'train'];
const NON_ORDER = EXPECTED.filter((n) => !n.startsWith('order-'));

/** A deep copy of the raw document, changed by `edit`, re-parsed through the same schema. */
function variant(edit: (doc: { functions: Record<string, Record<string, unknown>> } & Record<string, unknown>) => void): string {
  const doc = parse(stackText);
  edit(doc);
  return stringify(doc);
}

describe('stack.yml', () => {
  it('parses with the zod schema and declares exactly the eight functions', () => {
    expect(stackSchema.safeParse(parse(stackText)).success).toBe(true);
    expect(functionNames(stack).sort()).toEqual([...EXPECTED].sort());
    expect(stack.provider.name).toBe('openfaas');
  });

  it.each(ACCOUNTS)('order-%s mounts exactly its own kraken secret and names its account', (account) => {
    const fn = stack.functions[`order-${account}`]!;
    expect((fn.secrets ?? []).filter((s) => s.startsWith('kraken-'))).toEqual([`kraken-${account}`]);
    expect(fn.environment?.['AETHER_ACCOUNT']).toBe(account);
    expect(handlerFolder(fn)).toBe('order');
  });

  it.each(NON_ORDER)('%s mounts no kraken secret and sets no AETHER_ACCOUNT', (name) => {
    const fn = stack.functions[name]!;
    expect((fn.secrets ?? []).filter((s) => s.startsWith('kraken-'))).toEqual([]);
    expect(fn.environment?.['AETHER_ACCOUNT']).toBeUndefined();
  });

  it('has no secret isolation violations', () => {
    expect(secretIsolationViolations(stack)).toEqual([]);
  });

  it('makes every folder under functions/ the handler of some entry', () => {
    // Read at test time: the function folders are written alongside this file.
    const folders = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    const handlers = new Set(Object.values(stack.functions).map(handlerFolder));
    expect(folders.filter((f) => !handlers.has(f))).toEqual([]);
  });

  it('tells the image which function to serve (FUNCTION, read by the Dockerfile for `aether serve`)', () => {
    for (const [name, fn] of Object.entries(stack.functions)) expect(fn.environment?.['FUNCTION']).toBe(name);
  });

  it('points every handler at an existing functions/ folder', () => {
    const missing = Object.values(stack.functions)
      .map(handlerFolder)
      .filter((folder) => !existsSync(join(ROOT, 'functions', folder, 'handler.ts')));
    expect(missing).toEqual([]);
  });

  it('puts schedules on tick, report and train only, each a valid expression and a queue; no cron-connector trigger', () => {
    const schedules = cronSchedules(stack);
    expect(schedules).toEqual([
      { function: 'tick', schedule: '1 * * * *' },
      { function: 'report', schedule: '5 0 * * *' },
      { function: 'train', schedule: '30 2 * * *' },
    ]);
    for (const { schedule } of schedules) expect(() => parseCron(schedule)).not.toThrow();
    // The embedded runtime feeds each schedule to the queue of the same name.
    for (const s of schedules) expect(JOB_QUEUES).toContain(s.function);
    for (const name of ['api', 'score', 'order-company', 'order-director-1', 'order-director-2']) expect(stack.functions[name]!.annotations?.['aether/schedule']).toBeUndefined();
    // The cron-connector's calls are unsigned: nothing may still ask it for them.
    for (const fn of Object.values(stack.functions)) expect([fn.annotations?.['topic'], fn.annotations?.['schedule']]).toEqual([undefined, undefined]);
  });

  it('probes /livez and /readyz, runs under the restricted Profile, trusts the internal CA, mounts the database and Redis URLs, the job key and the audit key (the master key: api only), and scales order functions to exactly one', () => {
    for (const [name, fn] of Object.entries(stack.functions)) {
      // Liveness is the process alone, readiness its dependencies (a database blip restarts nothing).
      expect(fn.annotations?.['com.openfaas.health.http.path'], name).toBe('/livez');
      expect(fn.annotations?.['com.openfaas.ready.http.path'], name).toBe('/readyz');
      expect(fn.annotations?.['com.openfaas.profile'], name).toBe('aether-restricted');
      // TimescaleDB and Redis serve TLS from the internal CA: Node trusts it from the mounted aether-ca.
      expect(fn.secrets, name).toContain('aether-ca');
      expect(fn.environment?.['NODE_EXTRA_CA_CERTS'], name).toBe('/var/openfaas/secrets/ca.crt');
      // Every function appends audit rows (`aether serve` refuses to start in the cluster without the audit key).
      expect(fn.secrets, name).toEqual(expect.arrayContaining(['database-url', 'redis-url', 'aether-job-key', 'aether-audit-key']));
      expect(fn.secrets?.includes('aether-master-key'), name).toBe(name === 'api');
      expect(Number(fn.labels?.['com.openfaas.scale.min']), name).toBeGreaterThanOrEqual(1);
    }
    for (const account of ACCOUNTS) {
      const labels = stack.functions[`order-${account}`]!.labels!;
      // One process per Kraken key keeps its nonces strictly increasing.
      expect([labels['com.openfaas.scale.min'], labels['com.openfaas.scale.max']]).toEqual(['1', '1']);
    }
  });

  it('gives only api a Kubernetes service account (for writing kraken-* Secrets)', () => {
    const withAccount = Object.entries(stack.functions)
      .filter(([, fn]) => fn.annotations?.['com.openfaas.serviceaccount'] !== undefined)
      .map(([name, fn]) => [name, fn.annotations?.['com.openfaas.serviceaccount']]);
    expect(withAccount).toEqual([['api', 'aether-api']]);
  });
});

describe('secretIsolationViolations catches each breach', () => {
  const withEdit = (edit: (s: Stack) => void): string[] => {
    const copy = structuredClone(stack);
    edit(copy);
    return secretIsolationViolations(copy);
  };

  it.each<[string, (s: Stack) => void, string]>([
    ['api mounting a kraken key', (s) => s.functions['api']!.secrets!.push('kraken-company'), 'api mounts kraken-company but is not an order function'],
    ['score mounting a kraken key', (s) => s.functions['score']!.secrets!.push('kraken-director-2'), 'score mounts kraken-director-2 but is not an order function'],
    ['an order function mounting another account\'s key', (s) => s.functions['order-company']!.secrets!.push('kraken-director-1'), 'order-company mounts kraken-director-1, which belongs to another account'],
    ['an order function without its own key', (s) => { s.functions['order-director-1']!.secrets = ['database-url', 'redis-url', 'aether-master-key']; }, 'order-director-1 does not mount its own kraken-director-1'],
    ['an order function serving the wrong account', (s) => { s.functions['order-director-2']!.environment!['AETHER_ACCOUNT'] = 'company'; }, 'order-director-2 has AETHER_ACCOUNT=company, expected director-2'],
  ])('%s', (_label, edit, message) => {
    expect(withEdit(edit)).toEqual([expect.stringContaining(message)]);
  });
});

describe('a new account', () => {
  it.each(ACCOUNTS)('orderFunctionFor(%s) reproduces its stack.yml entry from another order function', (account) => {
    // Built from whichever order function comes first: the generated entry equals the committed one.
    expect(orderFunctionFor(stack, account)).toEqual(stack.functions[`order-${account}`]);
  });

  it('gives a new account its own function with only its own key, which the isolation check accepts', () => {
    const fn = orderFunctionFor(stack, 'director-3');
    expect(fn.secrets).toEqual(['database-url', 'redis-url', 'aether-metrics-token', 'aether-job-key', 'aether-audit-key', 'aether-ca', 'kraken-director-3']);
    expect(fn.environment).toMatchObject({ FUNCTION: 'order-director-3', AETHER_ACCOUNT: 'director-3' });
    expect(fn.labels?.['aether/account']).toBe('director-3');
    const copy = structuredClone(stack);
    copy.functions['order-director-3'] = fn;
    expect(secretIsolationViolations(copy)).toEqual([]);
    expect(stackSchema.safeParse(copy).success).toBe(true);
  });

  it('`aether stack account <slug>` prints the stack.yml entry, the Function and the Secret, each valid YAML', async () => {
    const { code, out } = await runStack(['account', 'director-3']);
    expect(code).toBe(0);
    const [entry, fn, secret] = out.split(/^# \d\. .*$/m).slice(1, 4).map((part) => parse(part.replace(/^---$/m, '')));
    expect(entry).toEqual({ 'order-director-3': orderFunctionFor(stack, 'director-3') });
    expect(fn).toMatchObject({ kind: 'Function', metadata: { name: 'order-director-3' }, spec: { secrets: expect.arrayContaining(['kraken-director-3']) } });
    expect(secret).toMatchObject({ kind: 'Secret', metadata: { name: 'kraken-director-3' } });
    expect(secret).not.toHaveProperty('data');
  });

  it.each(['Bad', '-x', 'a'.repeat(41), 'a_b'])('refuses the slug %j', (slug) => {
    expect(() => orderFunctionFor(stack, slug)).toThrow(StackError);
  });
});

describe('function timeouts', () => {
  it.each([['500ms', 500], ['30s', 30_000], ['2m', 120_000], ['1h', 3_600_000]])('%s is %i ms', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });

  it('reads exec_timeout per function; an order function added since takes the order functions\' value', () => {
    const timeout = functionTimeouts(stack);
    expect(timeout('train')).toBe(30 * 60_000);
    expect(timeout('order-company')).toBe(durationMs(stack.functions['order-company']!.environment!['exec_timeout']!));
    expect(timeout('order-added-later')).toBe(timeout('order-company'));
    expect(timeout('no-such-function')).toBe(120_000);
    expect(() => durationMs('soon')).toThrow(StackError);
  });
});

describe('the stack schema rejects broken files', () => {
  it.each<[string, (doc: { functions: Record<string, Record<string, unknown>> } & Record<string, unknown>) => void, RegExp]>([
    ['a misspelt field', (d) => { d.functions['tick']!['secret'] = ['database-url']; }, /secret/],
    ['an invalid cron schedule', (d) => { (d.functions['tick']!['annotations'] as Record<string, string>)['aether/schedule'] = '61 * * * *'; }, /minute value 61 is outside 0-59/],
    ['a cron-connector schedule (unsigned calls)', (d) => { (d.functions['score']!['annotations'] as Record<string, string>)['schedule'] = '0 * * * *'; }, /cron-connector .* cannot sign job calls/],
    ['the cron-connector topic', (d) => { (d.functions['score']!['annotations'] as Record<string, string>)['topic'] = 'cron-function'; }, /cannot sign job calls: schedule with aether\/schedule/],
    ['scale.min above scale.max', (d) => { (d.functions['api']!['labels'] as Record<string, string>)['com.openfaas.scale.min'] = '9'; }, /scale.min 9 exceeds scale.max 6/],
    ['a non-numeric scale label', (d) => { (d.functions['api']!['labels'] as Record<string, string>)['com.openfaas.scale.max'] = 'lots'; }, /must be a positive integer/],
    ['a handler outside functions/', (d) => { d.functions['api']!['handler'] = './lib/api'; }, /must be \.\/functions\/<folder>/],
    ['an untagged image', (d) => { d.functions['api']!['image'] = 'registry.example.com/aether/aether'; }, /tagged image reference/],
    ['a secret listed twice', (d) => { d.functions['api']!['secrets'] = ['database-url', 'database-url']; }, /lists a secret twice/],
    ['a non-string environment value', (d) => { (d.functions['api']!['environment'] as Record<string, unknown>)['LOG_LEVEL'] = 3; }, /LOG_LEVEL/],
    ['an uppercase function name', (d) => { d.functions['Tick'] = d.functions['tick']!; }, /lowercase RFC 1123 name/],
    ['another stack version', (d) => { d['version'] = 2; }, /version/],
  ])('%s', (_label, edit, message) => {
    const text = variant(edit);
    expect(() => parseStack(text)).toThrow(StackError);
    expect(() => parseStack(text)).toThrow(message);
  });

  it('loads the repository stack.yml by default, whatever the working directory', () => {
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      expect(loadStack()).toEqual(stack);
    } finally {
      process.chdir(cwd);
    }
  });

  it('reports YAML syntax errors and missing files with the file name', () => {
    expect(() => parseStack('functions: [', 'broken.yml')).toThrow(/broken\.yml is not valid YAML/);
    expect(() => loadStack(join(ROOT, 'no-such-stack.yml'))).toThrow(/cannot read .*no-such-stack\.yml/);
  });
});
