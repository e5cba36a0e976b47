/**
 * What authentication costs. Login: the real api app (in-process `app.request`, argon2id, the
 * database through the least-privileged runtime role) logging a real admin in with password and a
 * TOTP code, a few hundred times — successful logins only, each on a fresh TOTP step (a code is
 * accepted once) and from its own client address, so the login throttle never waits. Job calls: the
 * HMAC-SHA256 check every job function makes before it reads a payload, per call.
 * Targets: login p99 ≤ 250 ms, verification ≤ 50 µs.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { issueOnboardingToken } from '../lib/accounts/onboarding.ts';
import { totpCode } from '../lib/accounts/totp.ts';
import { VirtualClock } from '../lib/clock.ts';
import { openDatabase } from '../lib/db/client.ts';
import { runtimeUrl, setRuntimePassword } from '../lib/db/runtime-role.ts';
import { jobFunctionPath, NONCE_HEADER, signJob, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyJob } from '../lib/http/job-signature.ts';
import { openQueueClient } from '../lib/queue/client.ts';
import { createApp } from '../functions/api/handler.ts';
import { testContext } from '../tests/helpers/context.ts';
import { percentile } from './live/stats.ts';
import { withFreshDatabase } from './support.ts';

const LOGINS = Number(process.env.BENCH_AUTH_LOGINS ?? 300);
const WARMUP = 10;
const VERIFICATIONS = 200_000;
const TARGET = { loginP99Ms: 250, verifyUs: 50 };

async function loginLatencies(url: string): Promise<number[]> {
  const password = randomBytes(12).toString('base64url');
  await setRuntimePassword(url, password);
  const db = await openDatabase({ url: runtimeUrl(url, password), driver: 'pg', max: 5 });
  const queue = await openQueueClient({ databaseUrl: url, namespace: 'bench_auth', onError: (err) => console.warn(`queue: ${err.message}`) });
  try {
    const clock = new VirtualClock(Date.parse('2026-01-05T12:00:00Z'));
    const app = createApp(testContext(db.db, queue, { clock }));
    const post = async (path: string, json: unknown, ip: string) => {
      const res = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify(json) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const admin = { email: 'bench@example.com', name: 'Bench', password: randomBytes(18).toString('base64url') };
    const created = await post('/onboarding/admin', { token: await issueOnboardingToken(db.db), ...admin }, '192.0.2.1');
    if (created.status !== 201) throw new Error(`onboarding answered ${created.status}: ${JSON.stringify(created.body)}`);
    const secret = new URL(String(created.body['totpUri'])).searchParams.get('secret')!;
    const times: number[] = [];
    for (let i = 0; i < LOGINS + WARMUP; i++) {
      clock.advance(30_000 - (clock.now() % 30_000)); // a fresh TOTP step: each code logs in once
      const ip = `198.18.${(i >> 8) & 255}.${i & 255}`;
      const t = performance.now();
      const r = await post('/auth/login', { email: admin.email, password: admin.password, totp: totpCode(secret, Math.floor(clock.now() / 1000)) }, ip);
      const ms = performance.now() - t;
      if (r.status !== 200 || typeof r.body['token'] !== 'string') throw new Error(`login ${i} answered ${r.status}: ${JSON.stringify(r.body)}`);
      if (i >= WARMUP) times.push(ms);
    }
    return times;
  } finally {
    await queue.close();
    await db.close();
  }
}

/** Microseconds per verification of one signed order job (a valid signature: the full HMAC and compare). */
function verifyMicros(): number {
  const key = randomBytes(32);
  const body = JSON.stringify({ account: 'company', barTime: Date.parse('2026-01-05T11:00:00Z') });
  const parts = { method: 'POST', path: jobFunctionPath('order-company'), body };
  const now = Date.now();
  const h = signJob(key, parts, now);
  const headers = { timestamp: h[TIMESTAMP_HEADER], nonce: h[NONCE_HEADER], signature: h[SIGNATURE_HEADER] };
  let ok = 0;
  for (let i = 0; i < 10_000; i++) ok += verifyJob(key, parts, headers, now).ok ? 1 : 0; // warm-up
  const t = performance.now();
  for (let i = 0; i < VERIFICATIONS; i++) ok += verifyJob(key, parts, headers, now).ok ? 1 : 0;
  const us = ((performance.now() - t) * 1000) / VERIFICATIONS;
  if (ok !== VERIFICATIONS + 10_000) throw new Error('a valid signature failed to verify');
  return us;
}

await withFreshDatabase(async (url, source) => {
  const times = await loginLatencies(url);
  const p50 = percentile(times, 0.5);
  const p99 = percentile(times, 0.99);
  const us = verifyMicros();
  // argon2id is CPU-bound: its tail is the machine's load as much as the code's.
  console.log(`${LOGINS} admin logins (password + TOTP, argon2id) on ${source}: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (load average ${loadavg()[0]!.toFixed(1)})`);
  console.log(`${VERIFICATIONS} job signature verifications: ${us.toFixed(2)} µs each`);
  console.log(`bench auth: login_p99_ms=${p99.toFixed(1)} job_verify_us=${us.toFixed(2)} login_p50_ms=${p50.toFixed(1)} logins=${LOGINS}`);
  const missed = [p99 > TARGET.loginP99Ms && `login p99 ${p99.toFixed(1)} ms > ${TARGET.loginP99Ms} ms`, us > TARGET.verifyUs && `verification ${us.toFixed(2)} µs > ${TARGET.verifyUs} µs`].filter(Boolean);
  if (missed.length) {
    console.error(`bench auth: target missed: ${missed.join('; ')}`);
    process.exitCode = 1;
  }
});
