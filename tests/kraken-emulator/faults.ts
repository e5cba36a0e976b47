/** Scripted faults: matched by Kraken method name, fired a number of times or with a seeded probability. */
import { z } from 'zod';
import { PermissionSchema } from './permissions.ts';

const match = {
  method: z.string().min(1), // Kraken method name ("AddOrder", "Ticker") or "*"
  key: z.string().optional(), // only requests from this API key
  count: z.number().int().positive().optional(), // fire this many times (default 1 unless probability is set)
  probability: z.number().min(0).max(1).optional(), // fire with this probability on each match (seeded)
  skip: z.number().int().nonnegative().optional(), // let this many matching requests through first
};

export const FaultSpecSchema = z.discriminatedUnion('kind', [
  z.object({ ...match, kind: z.literal('latency'), ms: z.number().int().nonnegative() }),
  z.object({ ...match, kind: z.literal('timeout') }), // never answer; the client gives up
  z.object({ ...match, kind: z.literal('reset') }), // destroy the socket before processing
  z.object({ ...match, kind: z.literal('http'), status: z.number().int().min(400).max(599), body: z.string().optional() }),
  z.object({ ...match, kind: z.literal('error'), error: z.string().regex(/^[EW][A-Za-z]+:/) }), // a Kraken error string
  z.object({ ...match, kind: z.literal('accept-then-drop') }), // process it for real, then destroy the socket
  // Process it for real, then answer only after `ms` (longer than the client's timeout: it gives up, the exchange acted).
  z.object({ ...match, kind: z.literal('accept-then-delay'), ms: z.number().int().positive() }),
  // Process it for real, then answer this 5xx instead of the result ("5xx after placing").
  z.object({ ...match, kind: z.literal('accept-then-http'), status: z.number().int().min(500).max(599), body: z.string().optional() }),
]);
export type FaultSpec = z.infer<typeof FaultSpecSchema>;
/** Faults that let the request run for real (an order really is placed) and only then spoil the reply. */
export type ProcessingFault = Extract<FaultSpec, { kind: 'accept-then-drop' | 'accept-then-delay' | 'accept-then-http' }>;
const PROCESSING_KINDS = new Set<FaultSpec['kind']>(['accept-then-drop', 'accept-then-delay', 'accept-then-http']);
export const isProcessingFault = (f: FaultSpec): f is ProcessingFault => PROCESSING_KINDS.has(f.kind);
/** A fault without its match fields, per kind (TypeScript's Omit does not distribute over the union). */
export type FaultAction = FaultSpec extends infer F ? (F extends FaultSpec ? Omit<F, 'method' | 'key' | 'count' | 'probability' | 'skip'> : never) : never;

const LockoutSchema = z.object({
  breaches: z.number().int().positive(), // this many breaches within windowMs ...
  windowMs: z.number().int().positive(),
  lockoutMs: z.number().int().positive(), // ... lock the key out for this long (emulator time)
});

const KeySchema = z.object({
  key: z.string().min(1),
  secret: z.string().min(1),
  tier: z.enum(['starter', 'intermediate', 'pro']).optional(),
  balances: z.record(z.string(), z.number().nonnegative()).optional(),
  volume30dUsd: z.number().nonnegative().optional(),
  permissions: z.array(PermissionSchema).optional(),
});

export const ScenarioSchema = z.object({
  seed: z.number().int().optional(),
  startIndex: z.number().int().nonnegative().optional(),
  halfSpread: z.number().nonnegative().max(0.05).optional(),
  maxFillShare: z.number().gt(0).max(1).optional(),
  lockout: LockoutSchema.optional(),
  keys: z.array(KeySchema).optional(),
  faults: z.array(FaultSpecSchema).default([]),
});
export type Scenario = z.input<typeof ScenarioSchema>;

export function parseScenario(json: unknown): z.output<typeof ScenarioSchema> {
  return ScenarioSchema.parse(json);
}

/** mulberry32: small, seedable, good enough to make fault sequences reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ActiveFault {
  spec: FaultSpec;
  remaining: number; // Infinity for probability faults without a count
  skip: number;
}

export class FaultPlan {
  private active: ActiveFault[] = [];
  private readonly random: () => number;
  /** Every fault that fired: method, kind, time order. */
  readonly fired: Array<{ method: string; kind: FaultSpec['kind'] }> = [];

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(spec: FaultSpec | FaultSpec[]): void {
    for (const s of Array.isArray(spec) ? spec : [spec]) {
      const parsed = FaultSpecSchema.parse(s);
      const remaining = parsed.count ?? (parsed.probability !== undefined ? Infinity : 1);
      this.active.push({ spec: parsed, remaining, skip: parsed.skip ?? 0 });
    }
  }

  clear(): void {
    this.active = [];
  }

  pending(): FaultSpec[] {
    return this.active.filter((a) => a.remaining > 0).map((a) => a.spec);
  }

  /** The faults that fire for this request (at most one latency plus at most one other). */
  take(method: string, key: string | null): FaultSpec[] {
    const out: FaultSpec[] = [];
    let terminal = false;
    for (const a of this.active) {
      const s = a.spec;
      if (a.remaining <= 0 || (s.method !== '*' && s.method !== method) || (s.key !== undefined && s.key !== key)) continue;
      const isLatency = s.kind === 'latency';
      if (!isLatency && terminal) continue;
      if (a.skip > 0) {
        a.skip--;
        continue;
      }
      if (s.probability !== undefined && this.random() >= s.probability) continue;
      a.remaining--;
      out.push(s);
      this.fired.push({ method, kind: s.kind });
      if (!isLatency) terminal = true;
    }
    return out;
  }
}
