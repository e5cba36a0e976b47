import { describe, expect, it } from 'vitest';
import { systemClock, VirtualClock } from '../../../lib/clock.ts';
import { MemoryNonceStore, NONCE_RESYNC_IDLE_MS, NonceSequence, type NonceStore } from '../../../lib/exchange/kraken-nonce.ts';

/** The NonceStore contract over a Map, to test the sequence on its own (PostgreSQL is tested in integration). */
class MapStore implements NonceStore {
  readonly marks = new Map<string, bigint>();
  reservations = 0;
  async reserve(accountId: string, floor: bigint, size: bigint) {
    this.reservations++;
    const prev = this.marks.get(accountId) ?? 0n;
    const to = (prev > floor ? prev : floor) + size;
    this.marks.set(accountId, to);
    return { from: to - size + 1n, to };
  }
}

async function take(seq: NonceSequence, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    await seq.ensure();
    out.push(seq.take());
  }
  return out;
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

describe('NonceSequence', () => {
  it('hands out strictly increasing nonces, the first above the store mark and wall time (µs)', async () => {
    const store = new MapStore();
    const seq = new NonceSequence(store, 'a', new VirtualClock(1_700_000_000_000));
    const xs = await take(seq, 35);
    expect(increasing(xs)).toBe(true);
    expect(xs[0]).toBe(1_700_000_000_000 * 1000 + 1);
  });

  it('follows wall time: a nonce is never below the current µs', async () => {
    const clock = new VirtualClock(1_000_000);
    const seq = new NonceSequence(new MapStore(), 'a', clock);
    await take(seq, 3);
    clock.advance(2_000);
    expect((await take(seq, 1))[0]).toBe(1_002_000 * 1000);
  });

  it('synchronises with the store only at the first call and after an idle spell; every nonce is recorded in the background', async () => {
    const store = new MapStore();
    const clock = new VirtualClock(1_000_000);
    const seq = new NonceSequence(store, 'a', clock);
    const xs = await take(seq, 10);
    await seq.flushed();
    expect(store.marks.get('a')).toBeGreaterThanOrEqual(BigInt(xs[9]!));
    const before = store.reservations;
    clock.advance(NONCE_RESYNC_IDLE_MS - 1);
    await seq.ensure();
    expect(store.reservations).toBe(before); // not idle long enough
    seq.take();
    await seq.flushed();
    const afterUse = store.reservations;
    clock.advance(NONCE_RESYNC_IDLE_MS + 1);
    await seq.ensure();
    expect(store.reservations).toBe(afterUse + 1);
  });

  it('a restarted process starts above the stored mark even with its clock behind', async () => {
    const store = new MapStore();
    const old = new NonceSequence(store, 'a', new VirtualClock(2_000_000));
    const first = await take(old, 3);
    await old.flushed();
    const second = await take(new NonceSequence(store, 'a', new VirtualClock(1_000_000)), 3);
    expect(increasing([...first, ...second])).toBe(true);
  });

  it('accounts are independent', async () => {
    const store = new MapStore();
    await take(new NonceSequence(store, 'a', new VirtualClock(5)), 1);
    await take(new NonceSequence(store, 'b', new VirtualClock(5)), 1);
    expect([...store.marks.keys()].sort()).toEqual(['a', 'b']);
  });

  it('take() without ensure() is a bug and throws', () => {
    const seq = new NonceSequence(new MapStore(), 'a', new VirtualClock(0));
    expect(() => seq.take()).toThrow(/ensure/);
  });

  it('a store that hands back a block at or below the last nonce is refused', async () => {
    const bad: NonceStore = { reserve: async () => ({ from: 1n, to: 1n }) };
    const seq = new NonceSequence(bad, 'a', new VirtualClock(0));
    await seq.ensure();
    seq.take();
    seq.invalidate();
    await expect(seq.ensure()).rejects.toThrow(/not above/);
  });

  it('a failing background record is reported, not thrown', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const flaky: NonceStore = {
      reserve: async (_a, floor, size) => {
        if (calls++ > 0) throw new Error('database gone');
        return { from: floor + 1n, to: floor + size };
      },
    };
    const seq = new NonceSequence(flaky, 'a', new VirtualClock(1_000), (e) => errors.push(e));
    await take(seq, 2);
    await seq.flushed();
    expect(errors.length).toBeGreaterThan(0);
  });

  it('a frozen clock still gets strictly increasing nonces', async () => {
    const seq = new NonceSequence(new MemoryNonceStore(), 'a', new VirtualClock(1_000));
    expect(increasing(await take(seq, 10))).toBe(true);
  });
});

describe('two users of one key', () => {
  it('a later user (another process, the key check) is above our nonces, and our next call is above theirs — without a store round trip', async () => {
    const store = new MapStore();
    const clock = new VirtualClock(1_000_000);
    const job = new NonceSequence(store, 'a', clock);
    const [n1] = await take(job, 1);
    clock.advance(3_000);
    const check = new NonceSequence(store, 'a', new VirtualClock(clock.now())); // e.g. the key check in the api process
    const [c1] = await take(check, 1);
    clock.advance(1);
    const reservations = store.reservations;
    const [n2] = await take(job, 1);
    expect(c1!).toBeGreaterThan(n1!);
    expect(n2!).toBeGreaterThan(c1!);
    await Promise.all([job.flushed(), check.flushed()]);
    expect(store.reservations - reservations).toBe(1); // just the background record of n2
  });

  it('on the wall clock, two users calling by turns within one millisecond still send increasing nonces (µs, not ms × 1000)', async () => {
    const store = new MapStore();
    const users = [new NonceSequence(store, 'a', systemClock), new NonceSequence(store, 'a', systemClock)];
    for (const u of users) await u.ensure();
    const sent: number[] = [];
    let sameMs = 0;
    for (let i = 0; i < 400; i++) {
      // A real call takes far longer than this: each request leaves at least a few µs after the last.
      const t = performance.now();
      while (performance.now() - t < 0.003);
      const ms = Date.now();
      sent.push(users[i % 2]!.take());
      if (ms === Math.floor(sent.at(-1)! / 1000) && i > 0 && Math.floor(sent.at(-2)! / 1000) === ms) sameMs++;
    }
    expect(sameMs).toBeGreaterThan(0); // the case that matters happened
    expect(increasing(sent)).toBe(true);
  });

  it('a user whose clock is far behind (an old bar time) still goes above, through the store', async () => {
    const store = new MapStore();
    const wall = new VirtualClock(10_000_000);
    const live = new NonceSequence(store, 'a', wall);
    const xs = await take(live, 5);
    await live.flushed();
    const stale = new NonceSequence(store, 'a', new VirtualClock(10_000_000 - 7_200_000));
    const [s1] = await take(stale, 1);
    expect(s1!).toBeGreaterThan(xs[4]!);
  });

  it('after a refused nonce the next one comes from a fresh synchronisation above every other recorded user', async () => {
    const store = new MapStore();
    const clock = new VirtualClock(1_000);
    const mine = new NonceSequence(store, 'a', clock);
    const other = new NonceSequence(store, 'a', new VirtualClock(5_000)); // its clock is ahead of ours
    await take(mine, 1);
    const theirs = await take(other, 1);
    await other.flushed();
    expect((await take(mine, 1))[0]).toBeLessThan(theirs[0]!); // Kraken would refuse this one ...
    mine.invalidate();
    expect((await take(mine, 1))[0]).toBeGreaterThan(theirs[0]!); // ... and the retry is above
  });

  it('repeated refusals move nonces ahead of wall time (1 s, then 4 s); an accepted nonce ends the streak', async () => {
    const clock = new VirtualClock(1_000_000);
    const seq = new NonceSequence(new MapStore(), 'a', clock);
    await take(seq, 1);
    seq.invalidate();
    expect((await take(seq, 1))[0]).toBeLessThan((1_000_000 + 1) * 1000); // first refusal: re-read the store only
    seq.invalidate();
    expect((await take(seq, 1))[0]).toBeGreaterThanOrEqual((1_000_000 + 1_000) * 1000);
    seq.invalidate();
    expect((await take(seq, 1))[0]).toBeGreaterThanOrEqual((1_000_000 + 4_000) * 1000);
    seq.accepted();
    clock.advance(10_000);
    expect((await take(seq, 1))[0]).toBe(1_010_000 * 1000);
  });
});
