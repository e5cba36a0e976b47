import type { KrakenCredentials, SecretStore } from './accounts/credentials.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Db } from './db/client.ts';
import type { Logger } from './log.ts';
import type { QueueClient } from './queue/client.ts';
import type { HistoryProgress } from './runtime/first-start.ts';

/** What every function needs, built once by the composition root (bin/) and handed to each app. */
export interface AppContext {
  config: Config;
  db: Db;
  queue: QueueClient;
  logger: Logger;
  clock: Clock;
  /** Encrypts secrets at rest in the embedded runtime (TOTP secrets, Kraken keys there). */
  masterKey: Buffer;
  /** Signs and verifies job calls (lib/http/job-signature.ts): a Kubernetes Secret, or $AETHER_HOME/job.key. */
  jobKey: Buffer;
  timescale: boolean;
  version: string;
  /** Where uploaded Kraken keys go: Kubernetes Secrets (cluster) or encrypted rows (embedded). */
  secretStore: SecretStore;
  /** Validates keys against Kraken (a Balance call, the withdrawal-permission probe and a validate=true order) before they are stored; with the account id its nonces are persisted with the account's. */
  checkCredentials(creds: KrakenCredentials, accountId?: string): Promise<CredentialCheck>;
  /** The background history fill of `aether start` (reported by /healthz); absent elsewhere. */
  history?: { readonly progress: HistoryProgress };
}

/** `code` KEY_CAN_WITHDRAW: Kraken accepted the key, but it may withdraw funds (refused: Aether never needs that). */
export type CredentialCheck = { ok: true } | { ok: false; reason: string; code?: 'KEY_CAN_WITHDRAW' };
