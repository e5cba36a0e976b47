import pino, { type Logger } from 'pino';
import { shuttingDown } from './deadline.ts';

/**
 * pino JSON logs. Anything that could carry a credential is redacted by path, and the serializer
 * below drops every field whose name looks like a key, secret, password or token, at any depth.
 */
const SENSITIVE = /(pass(word)?|secret|token|api[-_]?key|private[-_]?key|authorization|cookie|otp|totp|signature|^key$)/i;

export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE.test(k) ? '[redacted]' : scrub(v, depth + 1);
  return out;
}

/** An error-level line, scrubbed as the log line is (child bindings included). */
export interface ErrorLine {
  msg: string;
  fields: Record<string, unknown>;
}
let errorTap: ((line: ErrorLine) => void) | null = null;

/** Every error-level line of every logger of this process also goes to `tap` (the system log, lib/system/events.ts); null stops it. */
export function tapErrorLines(tap: ((line: ErrorLine) => void) | null): void {
  errorTap = tap;
}

function errorLine(bindings: Record<string, unknown>, args: readonly unknown[]): ErrorLine {
  const [first, second] = args;
  const obj = typeof first === 'object' && first !== null ? (first instanceof Error ? { err: first } : first) : {};
  const msg = typeof first === 'string' ? first : typeof second === 'string' ? second : '';
  return { msg, fields: scrub({ ...bindings, ...obj }) as Record<string, unknown> };
}

/**
 * Logs go to stderr unless a destination is given: a command's stdout is its human (or piped)
 * output, and a JSON line must never land in the middle of it. Container runtimes collect both.
 */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino(
    {
      level,
      base: { service: 'aether' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        // Top-level names too: pino applies `redact` to child bindings, which the formatters do not see.
        paths: [
          ...['secret', 'apiSecret', 'password', 'token', 'apiKey', 'authorization', 'cookie', 'totp'].flatMap((k) => [k, `*.${k}`]),
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
        ],
        censor: '[redacted]',
      },
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      serializers: { err: pino.stdSerializers.err },
      hooks: {
        logMethod(args, method, level) {
          if (level >= 50 && errorTap) errorTap(errorLine(this.bindings(), args));
          method.apply(this, args);
        },
      },
    },
    destination,
  );
}

/**
 * The level of a connection or worker error: `level` while running, debug once the process is
 * shutting down — a terminal's Ctrl-C reaches the embedded PostgreSQL too, which then ends every
 * connection at once; those errors are the stop itself, not a fault worth a stack trace.
 */
const unlessStopping = (level: 'warn' | 'error'): 'warn' | 'error' | 'debug' => (shuttingDown() ? 'debug' : level);

/** PostgreSQL ended the connection because its server is stopping (57P01 admin, 57P02 crash, 57P03 not yet or no longer accepting). */
const databaseStopping = (err: unknown): boolean => /^57P0[1-3]$/.test(String((err as { code?: unknown } | null)?.code ?? ''));

/**
 * Logs a connection or worker error at `level` (debug once the process stops). A database that is
 * itself stopping — restarted, or reached by a terminal's Ctrl-C before this process noticed it — is
 * one warning without a stack: the connections come back with the server, nothing here failed.
 */
export function logConnectionError(log: Logger, level: 'warn' | 'error', err: unknown, fields: Record<string, unknown>, msg: string): void {
  if (databaseStopping(err)) log[unlessStopping('warn')]({ ...fields, code: (err as { code: string }).code }, 'the database is shutting down; its connections end until it is back');
  else log[unlessStopping(level)]({ ...fields, err }, msg);
}

export type { Logger };
