import type * as K8sClient from '@kubernetes/client-node';
import type { ConfigurationOptions, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { krakenSecretName, SECRET_KEYS, type KeySecretWriter, type KrakenCredentials, type SecretStore } from './credentials.ts';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const codeOf = (err: unknown): number | undefined => (err as { code?: number }).code;

type K8s = typeof K8sClient;

/**
 * A request's content type and time limit: the outbox row stays locked while a write is in flight, so
 * a hung API server must end as a failed (retried) write, not hold the lock.
 */
function requestOptions(k8s: K8s, contentType: string, timeoutMs: number): ConfigurationOptions {
  const header = k8s.setHeaderMiddleware('Content-Type', contentType);
  return {
    middleware: [
      {
        pre: (req) => {
          req.setSignal(AbortSignal.timeout(timeoutMs));
          return header.pre(req);
        },
        post: header.post,
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * Kraken keys as Kubernetes Secrets `kraken-<account>` (namespace-scoped), written through the
 * Kubernetes API with the api function's service account — which may patch (and create) those
 * Secrets but never read them: every write is a JSON merge patch, with a create when the Secret is
 * absent. The database keeps the key sealed only until the Secret is written (kraken-secret-sync.ts).
 */
export class KubernetesSecretStore implements SecretStore, KeySecretWriter {
  readonly storage = 'kubernetes';
  readonly secrets: KeySecretWriter = this;
  /**
   * The client library (some 800 modules: a second or more to load on a small CPU) is loaded with the
   * first write, so a function that never writes a Secret starts without it.
   */
  private client: Promise<{ k8s: K8s; api: CoreV1Api }> | null = null;
  constructor(
    private readonly kubeConfig: KubeConfig | 'in-cluster',
    private readonly namespace: string,
    readonly masterKey: Buffer,
    private readonly timeoutMs = 10_000,
  ) {}

  /** In the cluster: the pod's service account. */
  static inCluster(namespace: string, masterKey: Buffer): KubernetesSecretStore {
    return new KubernetesSecretStore('in-cluster', namespace, masterKey);
  }

  private connect(): Promise<{ k8s: K8s; api: CoreV1Api }> {
    return (this.client ??= import('@kubernetes/client-node').then((k8s) => {
      let kc = this.kubeConfig;
      if (kc === 'in-cluster') {
        kc = new k8s.KubeConfig();
        kc.loadFromCluster();
      }
      return { k8s, api: kc.makeApiClient(k8s.CoreV1Api) };
    }));
  }

  ref(accountSlug: string): string {
    return `${this.namespace}/${krakenSecretName(accountSlug)}`;
  }

  /** Puts the key into `kraken-<account>`, or (null) takes both fields out of it; never reads it. */
  async write(accountSlug: string, creds: KrakenCredentials | null): Promise<void> {
    const name = krakenSecretName(accountSlug);
    const labels = { 'app.kubernetes.io/part-of': 'aether', 'aether/account': accountSlug };
    const data = creds ? { [SECRET_KEYS.apiKey]: b64(creds.apiKey), [SECRET_KEYS.apiSecret]: b64(creds.apiSecret) } : { [SECRET_KEYS.apiKey]: null, [SECRET_KEYS.apiSecret]: null };
    const { k8s, api } = await this.connect();
    const patch = () =>
      api.patchNamespacedSecret({ name, namespace: this.namespace, body: { metadata: { labels }, data } }, requestOptions(k8s, k8s.PatchStrategy.MergePatch, this.timeoutMs));
    try {
      await patch();
      return;
    } catch (err) {
      if (codeOf(err) !== 404) throw err;
    }
    if (!creds) return; // no Secret holds no key
    try {
      await api.createNamespacedSecret(
        { namespace: this.namespace, body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace: this.namespace, labels }, data: data as Record<string, string> } },
        requestOptions(k8s, 'application/json', this.timeoutMs),
      );
    } catch (err) {
      if (codeOf(err) !== 409) throw err;
      await patch(); // created meanwhile by someone else: ours is the newer value
    }
  }
}
