/**
 * A request to a market-data host that got no HTTP answer. fetch says only "fetch failed" and keeps
 * the why (ENOTFOUND, ECONNREFUSED, a TLS failure …) in its cause; this names the host and that
 * cause, so a log line or a refusal says which dependency is down and why.
 */
export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(
    readonly host: string,
    readonly reason: string,
    options: { cause: unknown },
  ) {
    super(`cannot reach ${host}: ${reason}`, options);
  }
}

/** Why a request failed, in words a user can act on (a NetworkError's own reason; else the cause under fetch's "fetch failed"). */
export function failureReason(err: unknown): string {
  if (err instanceof NetworkError) return err.reason;
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer within the timeout';
  const cause = err.cause;
  if (!(cause instanceof Error)) return err.message;
  // A host with several addresses fails with an AggregateError whose message is empty; its code says it.
  const code = (cause as NodeJS.ErrnoException).code;
  if (!cause.message) return code ?? failureReason(cause);
  return code && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
}

/** fetch, with a failure to get any answer thrown as a NetworkError naming the URL's host and the cause. */
export async function fetchFrom(fetchFn: typeof fetch, url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (err) {
    throw new NetworkError(new URL(url).host, failureReason(err), { cause: err });
  }
}
