/**
 * The faults on private calls, and which request got which. The emulator tries its fault specs in
 * order (each with its count, skip or seeded probability) and applies at most one latency plus one
 * other fault to a request.
 */
import type { FaultSpec, KrakenEmulator, RecordedRequest } from '../../tests/kraken-emulator/index.ts';

/** Every kind the acceptance run must see fire at least once (the names `kindOf` gives). */
export const REQUIRED_KINDS = [
  'latency',
  'timeout',
  'reset',
  'http 429',
  'http 500',
  'http 502',
  'http 503',
  'EService:Unavailable',
  'EService:Busy',
  'EAPI:Rate limit exceeded',
  'EOrder:Rate limit exceeded',
  'EAPI:Invalid nonce',
  'accept-then-drop',
  'accept-then-delay',
  'accept-then-http',
] as const;

/**
 * Faults for the private calls of `key` (public calls — the tick's OHLC — carry no key and are never
 * faulted): first one of every kind on AddOrder, a few AddOrders apart, so that each kind is seen on
 * the call that matters most even in a run with few orders; then seeded probabilities on every
 * method — order entry, amend and cancel also get the kinds that act and then lose or spoil the reply.
 * With the defaults ≈ 22 % of all private requests and ≈ 30 % of order calls are faulted.
 */
export function faultSpecs(o: { key: string; scale: number; latencyMs: number; lateReplyMs: number }): FaultSpec[] {
  const p = (x: number) => Math.min(1, x * o.scale);
  const kinds: Array<Omit<FaultSpec, 'method'>> = [
    { kind: 'accept-then-drop' }, // placed; the connection drops before the reply
    { kind: 'accept-then-delay', ms: o.lateReplyMs }, // placed; the reply comes after the client's timeout
    { kind: 'accept-then-http', status: 502 }, // placed; "5xx after placing"
    { kind: 'error', error: 'EOrder:Rate limit exceeded' },
    { kind: 'timeout' }, // never answered
    { kind: 'reset' }, // the socket is destroyed before processing
    { kind: 'http', status: 429 },
    { kind: 'http', status: 500 },
    { kind: 'http', status: 502 },
    { kind: 'http', status: 503 },
    { kind: 'error', error: 'EService:Unavailable' },
    { kind: 'error', error: 'EService:Busy' },
    { kind: 'error', error: 'EAPI:Rate limit exceeded' },
    { kind: 'error', error: 'EAPI:Invalid nonce' },
    { kind: 'latency', ms: o.latencyMs },
  ] as Array<Omit<FaultSpec, 'method'>>;
  const coverage = o.scale > 0 ? kinds.map((k, i) => ({ ...k, method: 'AddOrder', count: 1, skip: 2 + 2 * i }) as FaultSpec) : [];
  const placing: FaultSpec[] = ['AddOrder', 'CancelOrder', 'AmendOrder'].flatMap((method): FaultSpec[] => [
    { method, kind: 'error', error: 'EOrder:Rate limit exceeded', probability: p(0.02) },
    { method, kind: 'accept-then-drop', probability: p(0.025) },
    { method, kind: 'accept-then-delay', ms: o.lateReplyMs, probability: p(0.02) },
    { method, kind: 'accept-then-http', status: 502, probability: p(0.01) },
    { method, kind: 'accept-then-http', status: 500, probability: p(0.01) },
  ]);
  const generic: FaultSpec[] = [
    { method: '*', kind: 'latency', ms: o.latencyMs, probability: p(0.08) },
    { method: '*', kind: 'timeout', probability: p(0.008) },
    { method: '*', kind: 'reset', probability: p(0.025) },
    { method: '*', kind: 'http', status: 429, probability: p(0.02) },
    { method: '*', kind: 'http', status: 500, probability: p(0.015) },
    { method: '*', kind: 'http', status: 502, probability: p(0.015) },
    { method: '*', kind: 'http', status: 503, probability: p(0.015) },
    { method: '*', kind: 'error', error: 'EService:Unavailable', probability: p(0.02) },
    { method: '*', kind: 'error', error: 'EService:Busy', probability: p(0.02) },
    { method: '*', kind: 'error', error: 'EAPI:Rate limit exceeded', probability: p(0.015) },
    { method: '*', kind: 'error', error: 'EAPI:Invalid nonce', probability: p(0.015) },
  ];
  return [...coverage, ...placing, ...generic].map((f) => ({ ...f, key: o.key }));
}

/**
 * Which faults each request got. The emulator records a fired fault as { method, kind } only; it
 * takes the faults synchronously right after logging the request, so the fault belongs to the newest
 * logged request — checked by method name, a mismatch is counted as untagged (none is expected).
 */
export class FaultLog {
  private readonly byRequest = new Map<RecordedRequest, string[]>();
  untagged = 0;

  constructor(private readonly emu: KrakenEmulator) {
    const fired = emu.faults.fired;
    const push = fired.push.bind(fired);
    fired.push = (...items) => {
      for (const f of items) {
        const rec = emu.requests[emu.requests.length - 1];
        if (rec && rec.name === f.method) this.byRequest.set(rec, [...(this.byRequest.get(rec) ?? []), f.kind]);
        else this.untagged++;
      }
      return push(...items);
    };
  }

  /** The faults a request got, named as in REQUIRED_KINDS. */
  kindsOf(rec: RecordedRequest): string[] {
    return (this.byRequest.get(rec) ?? []).map((k) => {
      if (k === 'http') return `http ${String(rec.status)}`;
      if (k === 'error') return rec.errors[0] ?? 'error';
      return k;
    });
  }

  faulted(rec: RecordedRequest): boolean {
    return this.byRequest.has(rec);
  }

  /** Private requests (optionally from `from` on), faulted ones, and counts by kind and by method:kind. */
  summary(from = 0): { privateRequests: number; faulted: number; byKind: Record<string, number>; byMethodKind: Record<string, number> } {
    let privateRequests = 0;
    let faulted = 0;
    const byKind: Record<string, number> = {};
    const byMethodKind: Record<string, number> = {};
    for (const rec of this.emu.requests.slice(from)) {
      if (rec.api !== 'private') continue;
      privateRequests++;
      const kinds = this.kindsOf(rec);
      if (kinds.length === 0) continue;
      faulted++;
      for (const k of kinds) {
        byKind[k] = (byKind[k] ?? 0) + 1;
        const mk = `${rec.name}:${k}`;
        byMethodKind[mk] = (byMethodKind[mk] ?? 0) + 1;
      }
    }
    return { privateRequests, faulted, byKind, byMethodKind };
  }
}
