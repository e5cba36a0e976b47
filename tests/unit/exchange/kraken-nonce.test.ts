import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../lib/clock.ts';
import { NonceSequence, type NonceStore } from '../../../lib/exchange/kraken-nonce.ts';

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
  it('hands out strictly increasing nonces from reserved blocks', async () => {
    const store = new MapStore();
    const seq = new NonceSequence(store, 'a', new VirtualClock(1_700_000_000_000), 10n);
    const xs = await take(seq, 35);
    expect(increasing(xs)).toBe(true);
    expect(store.reservations).toBe(4);
    expect(xs[0]).toBe(1_700_000_000_000 * 1000 + 1);
  });

  it('a restarted process starts above the stored mark even with its clock behind', async () => {
    const store = new MapStore();
    const first = await take(new NonceSequence(store, 'a', new VirtualClock(2_000_000), 100n), 3);
    const second = await take(new NonceSequence(store, 'a', new VirtualClock(1_000_000), 100n), 3);
    expect(increasing([...first, ...second])).toBe(true);
  });

  it('moves up to the clock after a long pause', async () => {
    const store = new MapStore();
    const clock = new VirtualClock(1_000);
    const seq = new NonceSequence(store, 'a', clock, 2n);
    await take(seq, 2);
    clock.advance(60_000);
    expect((await take(seq, 1))[0]).toBe(61_000 * 1000 + 1);
  });

  it('accounts are independent', async () => {
    const store = new MapStore();
    await take(new NonceSequence(store, 'a', new VirtualClock(5), 10n), 1);
    await take(new NonceSequence(store, 'b', new VirtualClock(5), 10n), 1);
    expect([...store.marks.keys()]).toEqual(['a', 'b']);
  });

  it('take() without ensure() is a bug and throws', () => {
    const seq = new NonceSequence(new MapStore(), 'a', new VirtualClock(0));
    expect(() => seq.take()).toThrow(/ensure/);
  });

  it('a store that hands back a block at or below the last nonce is refused', async () => {
    const bad: NonceStore = { reserve: async () => ({ from: 1n, to: 1n }) };
    const seq = new NonceSequence(bad, 'a', new VirtualClock(0), 1n);
    await seq.ensure();
    seq.take();
    await expect(seq.ensure()).rejects.toThrow(/not above/);
  });
});

describe('NonceSequence.invalidate', () => {
  it('after a refused nonce the next one comes from a fresh reservation above every other holder', async () => {
    const store = new MapStore();
    const clock = new VirtualClock(1_000);
    const mine = new NonceSequence(store, 'a', clock, 100n);
    const other = new NonceSequence(store, 'a', clock, 100n);
    await take(mine, 1);
    const theirs = await take(other, 1); // another process holding the next block
    mine.invalidate();
    const next = (await take(mine, 1))[0]!;
    expect(next).toBeGreaterThan(theirs[0]! + 99);
  });
});
