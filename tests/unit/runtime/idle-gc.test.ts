import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectWhenIdle, jobStarted, stopIdleCollection } from '../../../lib/runtime/idle-gc.ts';

afterEach(() => {
  stopIdleCollection();
  vi.useRealTimers();
});

describe('idle garbage collection', () => {
  it('collects once the last running job has ended and the quiet time has passed, never while a job runs', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    collectWhenIdle(50, { gc });
    const a = jobStarted();
    const b = jobStarted();
    a();
    vi.advanceTimersByTime(1000);
    expect(gc).not.toHaveBeenCalled(); // b still runs
    b();
    b(); // ending twice counts once
    vi.advanceTimersByTime(49);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(gc).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(gc).toHaveBeenCalledTimes(1); // once per quiet spell
  });

  it('a job that starts in the quiet time puts the collection off until it ends', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    collectWhenIdle(50, { gc });
    jobStarted()();
    vi.advanceTimersByTime(30);
    const c = jobStarted();
    vi.advanceTimersByTime(100);
    expect(gc).not.toHaveBeenCalled();
    c();
    vi.advanceTimersByTime(50);
    expect(gc).toHaveBeenCalledTimes(1);
  });

  it("is V8's own collector by default, and reports how long it took", async () => {
    const took: number[] = [];
    collectWhenIdle(1, { onCollect: (ms) => took.push(ms) });
    jobStarted()();
    await new Promise((r) => setTimeout(r, 30));
    expect(took).toHaveLength(1);
    expect(took[0]).toBeGreaterThan(0);
  });

  it('does nothing unless enabled', () => {
    vi.useFakeTimers();
    const end = jobStarted();
    end();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('idle garbage collection that fails', () => {
  it('stops, reports why, and never throws from its timer', () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const gc = vi.fn(() => {
      throw new Error('no collector');
    });
    collectWhenIdle(10, { gc, onError: (e) => errors.push(e) });
    jobStarted()();
    expect(() => vi.advanceTimersByTime(10)).not.toThrow();
    expect(errors).toHaveLength(1);
    jobStarted()();
    vi.advanceTimersByTime(100);
    expect(gc).toHaveBeenCalledTimes(1); // stopped after the failure
  });
});
