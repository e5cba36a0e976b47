import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SessionLocks } from '../../../lib/db/locks.ts';

/** A pooled client as pg-pool hands it out: a second release throws, as pg-pool's does. */
class Client extends EventEmitter {
  releases = 0;
  async query() {
    return { rows: [{ ok: true }] };
  }
  release() {
    if (++this.releases > 1) throw new Error('Release called on client which has already been released to the pool.');
  }
}

describe('SessionLocks', () => {
  it('gives its connection back once, even when the server reports an error on it after close (a dropped database)', async () => {
    const clients: Client[] = [];
    const locks = new SessionLocks({ connect: async () => (clients.push(new Client()), clients.at(-1)!) });
    expect(await locks.tryLock(1, 'a')).toBe(true);
    await locks.close();
    expect(() => clients[0]!.emit('error', new Error('terminating connection due to administrator command'))).not.toThrow();
    expect(clients[0]!.releases).toBe(1);
  });

  it('a connection lost with an error is released once and the next lock opens another', async () => {
    const clients: Client[] = [];
    const locks = new SessionLocks({ connect: async () => (clients.push(new Client()), clients.at(-1)!) });
    expect(await locks.tryLock(1, 'a')).toBe(true);
    clients[0]!.emit('error', new Error('connection lost'));
    clients[0]!.emit('error', new Error('and again'));
    expect(clients[0]!.releases).toBe(1);
    await locks.unlock(1, 'a');
    expect(clients).toHaveLength(2);
    await locks.close();
    expect(clients[1]!.releases).toBe(1);
  });
});
