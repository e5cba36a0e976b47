/** Small numeric helpers shared by the ml modules (pure). */

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** Deterministic PRNG (mulberry32): the same seed gives the same model. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return xs.length ? s / xs.length : NaN;
}

/** Fixed-capacity ring buffer of numbers; `ago(0)` is the newest value. */
export class Ring {
  private readonly buf: Float64Array;
  private head = 0;
  private n = 0;
  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }
  get size(): number {
    return this.n;
  }
  get full(): boolean {
    return this.n === this.capacity;
  }
  /** Pushes x and returns the value it evicted (NaN when not yet full). */
  push(x: number): number {
    const out = this.n === this.capacity ? (this.buf[this.head] as number) : NaN;
    this.buf[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    if (this.n < this.capacity) this.n++;
    return out;
  }
  ago(k: number): number {
    if (k >= this.n) throw new RangeError(`Ring.ago(${k}) with ${this.n} values`);
    return this.buf[(this.head - 1 - k + 2 * this.capacity) % this.capacity] as number;
  }
}

/** Rolling mean / standard deviation over the last `window` values (population std). */
export class RollingStats {
  private readonly ring: Ring;
  private sum = 0;
  private sumSq = 0;
  constructor(readonly window: number) {
    this.ring = new Ring(window);
  }
  push(x: number): void {
    const out = this.ring.push(x);
    this.sum += x;
    this.sumSq += x * x;
    if (!Number.isNaN(out)) {
      this.sum -= out;
      this.sumSq -= out * out;
    }
  }
  get ready(): boolean {
    return this.ring.full;
  }
  get mean(): number {
    return this.sum / this.ring.size;
  }
  get std(): number {
    const m = this.mean;
    return Math.sqrt(Math.max(0, this.sumSq / this.ring.size - m * m));
  }
}
