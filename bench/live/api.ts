/**
 * The runtime's HTTP API, used as a user would (README "First steps"): the onboarding token → the
 * first admin (TOTP from the otpauth URI) → login → accounts → keys → settings → the live switch.
 * Every answer ≥ 500 is counted: the bench's own calls are part of `errors_5xx`.
 */
import { generateSync } from 'otplib';
import { jobFunctionPath, signJob } from '../../lib/http/job-signature.ts';

export interface Reply {
  status: number;
  body: unknown;
  text: string;
}

export class ApiError extends Error {
  constructor(
    readonly what: string,
    readonly reply: Reply,
  ) {
    super(`${what}: HTTP ${reply.status} ${reply.text.slice(0, 500)}`);
  }
}

export interface Admin {
  email: string;
  password: string;
  totpSecret: string;
}

export class Api {
  /** HTTP ≥ 500 answers to the bench's own calls: [what, status, body]. */
  readonly errors5xx: Array<{ what: string; status: number; text: string }> = [];
  private token: string | null = null;
  private admin: Admin | null = null;
  private lastTotpStep = -1;

  constructor(
    private readonly base: () => string,
    /** The runtime's wall clock (TOTP codes and session expiry run on it). */
    private readonly wallNow: () => number,
  ) {}

  async request(method: string, path: string, json?: unknown, what = `${method} ${path}`, timeoutMs = 120_000): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (json !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.base()}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const reply = { status: res.status, body, text };
    if (res.status >= 500) this.errors5xx.push({ what, status: res.status, text: text.slice(0, 300) });
    return reply;
  }

  /**
   * A job call as the runtime's cron path makes it: POST /function/<fn>, signed with the runtime's job
   * key at the runtime's wall clock (the function refuses an unsigned call, or one off its clock).
   */
  async job(fn: string, payload: unknown, jobKey: Buffer, what = `POST ${jobFunctionPath(fn)}`, timeoutMs = 120_000): Promise<Reply> {
    const body = JSON.stringify(payload);
    const headers = { 'content-type': 'application/json', ...signJob(jobKey, { method: 'POST', path: jobFunctionPath(fn), body }, this.wallNow()) };
    const res = await fetch(`${this.base()}${jobFunctionPath(fn)}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    const reply = { status: res.status, body: undefined, text };
    if (res.status >= 500) this.errors5xx.push({ what, status: res.status, text: text.slice(0, 300) });
    return reply;
  }

  /**
   * As `request`, re-logging in once on 401 (sessions expire on the runtime's wall clock, which jumps
   * an hour a cycle) or 403 STEP_UP_REQUIRED (a TOTP login opens the step-up window again).
   */
  async authed(method: string, path: string, json?: unknown, what?: string): Promise<Reply> {
    let r = await this.request(method, path, json, what);
    const stepUp = r.status === 403 && (r.body as { code?: string } | undefined)?.code === 'STEP_UP_REQUIRED';
    if ((r.status === 401 || stepUp) && this.admin) {
      await this.login();
      r = await this.request(method, path, json, what);
    }
    return r;
  }

  async expect(method: string, path: string, json: unknown, status: number | number[], what: string): Promise<Reply> {
    const r = await this.authed(method, path, json, what);
    const ok = Array.isArray(status) ? status.includes(r.status) : r.status === status;
    if (!ok) throw new ApiError(what, r);
    return r;
  }

  /** POST /onboarding/admin with the token the first start printed; returns the admin with its TOTP secret. */
  async onboardAdmin(onboardingToken: string, email: string, password: string): Promise<Admin> {
    const r = await this.request('POST', '/function/api/onboarding/admin', { token: onboardingToken, email, name: 'Bench Admin', password }, 'onboarding admin');
    if (r.status !== 201) throw new ApiError('onboarding admin', r);
    const uri = (r.body as { totpUri?: string }).totpUri;
    if (!uri?.startsWith('otpauth://')) throw new Error(`onboarding answered no otpauth URI: ${r.text.slice(0, 300)}`);
    const secret = new URL(uri).searchParams.get('secret');
    if (!secret) throw new Error(`no secret in the otpauth URI ${uri}`);
    this.admin = { email, password, totpSecret: secret };
    return this.admin;
  }

  /** Logs the admin in with a TOTP code for the runtime's current wall time (each 30 s step only once). */
  async login(): Promise<void> {
    if (!this.admin) throw new Error('no admin to log in');
    let epoch = Math.floor(this.wallNow() / 1000);
    // A code is good once: wait for the next step if this one was used (only when logging in twice within 30 s).
    while (Math.floor(epoch / 30) <= this.lastTotpStep) {
      await new Promise((r) => setTimeout(r, 1000));
      epoch = Math.floor(this.wallNow() / 1000);
    }
    this.lastTotpStep = Math.floor(epoch / 30);
    const totp = generateSync({ secret: this.admin.totpSecret, epoch });
    this.token = null;
    const r = await this.request('POST', '/function/api/auth/login', { email: this.admin.email, password: this.admin.password, totp }, 'login');
    if (r.status !== 200) throw new ApiError('login', r);
    this.token = (r.body as { token: string }).token;
  }
}
