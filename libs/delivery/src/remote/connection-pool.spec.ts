import type { SmtpClient } from '@mta/smtp-client';
import { describe, expect, it, vi } from 'vitest';
import { SmtpConnectionPool } from './connection-pool';

/** A stand-in session: usable, never used for a message, counts its QUITs. */
function session() {
  const quit = vi.fn(async () => undefined);
  const client = { isUsable: () => true, messagesSent: 0, quit, reset: async () => true };
  return { client: client as unknown as SmtpClient, quit };
}

describe('SmtpConnectionPool bounds', () => {
  it('keeps at most maxIdlePerKey idle sessions per host and maxIdle in all', async () => {
    const pool = new SmtpConnectionPool({ maxIdlePerKey: 2, maxIdle: 3 });
    const s = Array.from({ length: 5 }, session);
    pool.release('a', s[0].client);
    pool.release('a', s[1].client);
    pool.release('a', s[2].client); // a third for one host: over maxIdlePerKey
    expect(s[2].quit).toHaveBeenCalledTimes(1);
    pool.release('b', s[3].client);
    pool.release('c', s[4].client); // a fourth in all: over maxIdle
    expect(s[4].quit).toHaveBeenCalledTimes(1);
    expect(pool.size).toBe(3);
    // Taking one makes room again.
    expect(await pool.take('a')).toBe(s[1].client);
    expect(pool.size).toBe(2);
    const more = session();
    pool.release('c', more.client);
    expect(more.quit).not.toHaveBeenCalled();
    expect(pool.size).toBe(3);
    await pool.close();
    expect(pool.size).toBe(0);
    for (const x of [s[0], s[3], more]) expect(x.quit).toHaveBeenCalledTimes(1);
  });
});
