import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server speaking the slice of the Kubernetes core/v1 Secrets API that the secret store
 * uses, the way the API server does: bearer-token auth (401), RBAC by verb (403 for a verb the
 * service account was not granted: `verbs`), GET one secret (404 when absent), POST to create (409
 * AlreadyExists), PUT to replace (404 when absent, 409 Conflict on a stale resourceVersion), PATCH
 * as a JSON merge patch (RFC 7386, `application/merge-patch+json`; 404 when absent, 415 for other
 * patch types), `stringData` folded into base64 `data` and never stored or returned, a
 * resourceVersion that grows with every write, and errors as `Status` objects. `failNext` makes the
 * next requests fail (an API server outage) and `stallNext` leaves them unanswered (a hung one),
 * without touching anything.
 */

export interface StoredSecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  type: string;
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string; labels?: Record<string, string> };
  data: Record<string, string>;
}

export interface FakeRequest {
  method: string;
  path: string;
  authorized: boolean;
  contentType: string | undefined;
}

export interface KubernetesFake {
  url: string;
  token: string;
  requests: FakeRequest[];
  /** A stored secret, with `data` decoded; undefined when absent. */
  secret(namespace: string, name: string): (Omit<StoredSecretObject, 'data'> & { data: Record<string, string> }) | undefined;
  /** Seeds a secret as the stack deploys it (the empty placeholder). */
  put(namespace: string, name: string, data?: Record<string, string>): void;
  /** The next `count` authorised requests are answered `status` (default 503) and change nothing. */
  failNext(count: number, status?: number): void;
  /** The next `count` authorised requests are never answered (a hung API server) and change nothing. */
  stallNext(count: number): void;
  close(): Promise<void>;
}

const PATH = /^\/api\/v1\/namespaces\/([a-z0-9-]{1,63})\/secrets(?:\/([a-z0-9.-]{1,253}))?$/;

export type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';
const ALL_VERBS: readonly Verb[] = ['get', 'list', 'create', 'update', 'patch', 'delete'];

export async function startKubernetesFake(opts: { token?: string; verbs?: readonly Verb[] } = {}): Promise<KubernetesFake> {
  const token = opts.token ?? 'fake-service-account-token';
  const verbs = new Set(opts.verbs ?? ALL_VERBS);
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let stalls = 0;
  const store = new Map<string, StoredSecretObject>();
  const requests: FakeRequest[] = [];
  let version = 1000;
  let uid = 0;
  const key = (ns: string, name: string) => `${ns}/${name}`;

  const status = (res: ServerResponse, code: number, reason: string, message: string) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  };
  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  };

  /** RFC 7386: objects merge key by key, null removes a key, anything else replaces. */
  const mergePatch = (target: unknown, patch: unknown): unknown => {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
    const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = mergePatch(out[k], v);
    }
    return out;
  };
  const verbOf = (method: string, named: boolean): Verb | null =>
    method === 'GET' ? (named ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : null;

  /** What the API server stores from a written object: data merged with stringData (base64). */
  const materialise = (ns: string, name: string, body: Record<string, unknown>, prev?: StoredSecretObject): StoredSecretObject => {
    const meta = (body.metadata ?? {}) as { labels?: Record<string, string> };
    const data: Record<string, string> = { ...((body.data ?? {}) as Record<string, string>) };
    for (const [k, v] of Object.entries((body.stringData ?? {}) as Record<string, string>)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: typeof body.type === 'string' ? body.type : 'Opaque',
      metadata: {
        name,
        namespace: ns,
        uid: prev?.metadata.uid ?? `uid-${++uid}`,
        resourceVersion: String(++version),
        creationTimestamp: prev?.metadata.creationTimestamp ?? '2026-01-01T00:00:00Z',
        labels: meta.labels,
      },
      data,
    };
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const authorized = req.headers.authorization === `Bearer ${token}`;
      requests.push({ method: req.method ?? '', path: url.pathname, authorized, contentType: req.headers['content-type'] });
      if (!authorized) return status(res, 401, 'Unauthorized', 'Unauthorized');
      const m = PATH.exec(url.pathname);
      if (!m) return status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
      const [, ns, name] = m as unknown as [string, string, string | undefined];
      const verb = verbOf(req.method ?? '', name !== undefined);
      if (verb && !verbs.has(verb))
        return status(res, 403, 'Forbidden', `secrets${name ? ` "${name}"` : ''} is forbidden: User "system:serviceaccount:aether:aether-api" cannot ${verb} resource "secrets" in API group "" in the namespace "${ns}"`);
      if (stalls > 0) {
        stalls--;
        return; // the client gives up; close() drops the socket
      }
      if (failures.count > 0) {
        failures.count--;
        return status(res, failures.status, 'ServiceUnavailable', 'the server is currently unable to handle the request');
      }
      if (req.method === 'GET' && name) {
        const s = store.get(key(ns, name));
        return s ? send(res, 200, s) : status(res, 404, 'NotFound', `secrets "${name}" not found`);
      }
      if (req.method === 'POST' && !name) {
        const body = await readJson(req);
        const meta = (body.metadata ?? {}) as { name?: string; namespace?: string };
        if (body.kind !== 'Secret' || !meta.name) return status(res, 400, 'BadRequest', 'a Secret with metadata.name is required');
        if (meta.namespace && meta.namespace !== ns) return status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        if (store.has(key(ns, meta.name))) return status(res, 409, 'AlreadyExists', `secrets "${meta.name}" already exists`);
        const s = materialise(ns, meta.name, body);
        store.set(key(ns, meta.name), s);
        return send(res, 201, s);
      }
      if (req.method === 'PUT' && name) {
        const body = await readJson(req);
        const meta = (body.metadata ?? {}) as { name?: string; namespace?: string; resourceVersion?: string };
        if (body.kind !== 'Secret' || meta.name !== name) return status(res, 400, 'BadRequest', 'the name of the object does not match the name on the URL');
        if (meta.namespace && meta.namespace !== ns) return status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        const prev = store.get(key(ns, name));
        if (!prev) return status(res, 404, 'NotFound', `secrets "${name}" not found`);
        if (meta.resourceVersion && meta.resourceVersion !== prev.metadata.resourceVersion)
          return status(res, 409, 'Conflict', `Operation cannot be fulfilled on secrets "${name}": the object has been modified`);
        const s = materialise(ns, name, body, prev);
        store.set(key(ns, name), s);
        return send(res, 200, s);
      }
      if (req.method === 'PATCH' && name) {
        if (req.headers['content-type'] !== 'application/merge-patch+json') return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json`);
        const patch = await readJson(req);
        const prev = store.get(key(ns, name));
        if (!prev) return status(res, 404, 'NotFound', `secrets "${name}" not found`);
        const merged = mergePatch(prev, patch) as Record<string, unknown> & { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };
        if (merged.metadata?.name !== name || merged.metadata.namespace !== ns) return status(res, 400, 'BadRequest', 'a patch may not change the name or namespace');
        if (merged.type !== prev.type) return status(res, 422, 'Invalid', `Secret "${name}" is invalid: type: Invalid value: field is immutable`);
        if (merged.metadata.resourceVersion !== prev.metadata.resourceVersion)
          return status(res, 409, 'Conflict', `Operation cannot be fulfilled on secrets "${name}": the object has been modified`);
        const s = materialise(ns, name, merged, prev);
        store.set(key(ns, name), s);
        return send(res, 200, s);
      }
      return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported here`);
    })().catch((err: Error) => status(res, 500, 'InternalError', err.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    secret(ns, name) {
      const s = store.get(key(ns, name));
      if (!s) return undefined;
      return { ...s, data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) };
    },
    put(ns, name, data = {}) {
      store.set(key(ns, name), materialise(ns, name, { kind: 'Secret', metadata: { name }, stringData: data }));
    },
    failNext(count, code = 503) {
      failures = { count, status: code };
    },
    stallNext(count) {
      stalls = count;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** A KubeConfig (as `loadFromOptions` takes it) pointing at the fake with its token. */
export const fakeKubeConfigOptions = (fake: KubernetesFake, token = fake.token) => ({
  clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
  users: [{ name: 'aether-api', token }],
  contexts: [{ name: 'fake', cluster: 'fake', user: 'aether-api', namespace: 'aether' }],
  currentContext: 'fake',
});
