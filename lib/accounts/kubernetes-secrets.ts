import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Tx } from '../db/client.ts';
import { krakenCredentialsSchema, krakenSecretName, MissingCredentialsError, SECRET_KEYS, type KrakenCredentials, type SecretStore, type StoredSecret } from './credentials.ts';

/**
 * Kraken keys as Kubernetes Secrets `kraken-<account>` (namespace-scoped), written through the
 * Kubernetes API with the api function's service account. The Secret usually exists (an empty
 * placeholder deployed with the stack, so RBAC can name it); it is replaced, or created when absent.
 */
export class KubernetesSecretStore implements SecretStore {
  private readonly api: CoreV1Api;
  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** In the cluster: the pod's service account. */
  static inCluster(namespace: string): KubernetesSecretStore {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return new KubernetesSecretStore(kc, namespace);
  }

  async put(accountSlug: string, creds: KrakenCredentials): Promise<StoredSecret> {
    const name = krakenSecretName(accountSlug);
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, namespace: this.namespace, labels: { 'app.kubernetes.io/part-of': 'aether', 'aether/account': accountSlug } },
      stringData: { [SECRET_KEYS.apiKey]: creds.apiKey, [SECRET_KEYS.apiSecret]: creds.apiSecret },
    };
    const existing = await this.api.readNamespacedSecret({ name, namespace: this.namespace }).then(
      (s) => s,
      (err: { code?: number }) => {
        if (err.code === 404) return null;
        throw err;
      },
    );
    if (existing) await this.api.replaceNamespacedSecret({ name, namespace: this.namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
    else await this.api.createNamespacedSecret({ namespace: this.namespace, body });
    return { storage: 'kubernetes', ref: `${this.namespace}/${name}`, ciphertext: null };
  }

  /** Reads `kraken-<account>` back (the api function holds get on exactly those Secrets). */
  async get(_tx: Tx, account: { slug: string }): Promise<KrakenCredentials> {
    const name = krakenSecretName(account.slug);
    const secret = await this.api.readNamespacedSecret({ name, namespace: this.namespace }).then(
      (s) => s,
      (err: { code?: number }) => {
        if (err.code === 404) return null;
        throw err;
      },
    );
    const data = secret?.data ?? {};
    const field = (k: string) => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : '');
    const apiKey = field(SECRET_KEYS.apiKey);
    const apiSecret = field(SECRET_KEYS.apiSecret);
    if (!apiKey || !apiSecret) throw new MissingCredentialsError(`Secret ${this.namespace}/${name} holds no Kraken key`);
    return krakenCredentialsSchema.parse({ apiKey, apiSecret });
  }
}
