import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logConnectionError } from '../../lib/log.ts';

/** A logger writing its JSON lines into an array. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('debug', sink), lines };
}

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('logConnectionError', () => {
  it('a database that is itself shutting down is one warning without a stack', () => {
    const { log, lines } = capture();
    logConnectionError(log, 'error', pgError('57P01', 'terminating connection due to administrator command'), { queue: 'order' }, 'worker error');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, queue: 'order', code: '57P01', msg: 'the database is shutting down; its connections end until it is back' });
    expect(lines[0]).not.toHaveProperty('err');
  });

  it('any other error keeps its level, message and stack', () => {
    const { log, lines } = capture();
    logConnectionError(log, 'error', pgError('08006', 'connection failure'), { queue: 'order' }, 'worker error');
    expect(lines[0]).toMatchObject({ level: 50, queue: 'order', msg: 'worker error', err: { message: 'connection failure' } });
    expect(String((lines[0]!.err as { stack?: string }).stack)).toMatch(/connection failure/);
  });
});
