import type { SmtpClient } from '@mta/smtp-client';
import { describe, expect, it, vi } from 'vitest';
import { SmtpConnectionPool } from './connection-pool';

/**
 * A stand-in session: usable, never used for a message, counts its QUITs and RSETs; `reset`
 * answers what `resetReply` resolves with (250: true).
 */
function session(resetReply: () => Promise<boolean> = async () => true) {
  const quit = vi.fn(async () => undefined);
  const reset = vi.fn(resetReply);
  const client = { isUsable: () => true, messagesSent: 0, quit, reset };
  return { client: client as unknown as SmtpClient, quit, reset };
}

/** Lets the pool see the RSET replies that have resolved (promise callbacks only, no timers). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

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

describe('SmtpConnectionPool RSET', () => {
  it('resets a session when it is given back, so that taking it does not wait for the RSET', async () => {
    const pool = new SmtpConnectionPool();
    const s = session();
    pool.release('a', s.client);
    expect(s.reset).toHaveBeenCalledTimes(1);
    expect(await pool.take('a')).toBe(s.client);
    expect(s.reset).toHaveBeenCalledTimes(1);
    await pool.close();
  });

  it('hands out a session whose RSET was answered before a newer one still waiting for its reply', async () => {
    const pool = new SmtpConnectionPool();
    let answer: (ok: boolean) => void = () => undefined;
    const answered = session();
    const waiting = session(() => new Promise<boolean>((resolve) => (answer = resolve)));
    pool.release('a', answered.client);
    pool.release('a', waiting.client);
    await settle();
    expect(await pool.take('a')).toBe(answered.client);
    // The waiting one is handed out once its RSET is answered.
    const next = pool.take('a');
    answer(true);
    expect(await next).toBe(waiting.client);
    await pool.close();
  });

  it('never hands out a session whose RSET failed, nor one that stopped being usable while idle', async () => {
    const pool = new SmtpConnectionPool();
    const refused = session(async () => false);
    const dropped = session();
    pool.release('a', refused.client);
    pool.release('b', dropped.client);
    (dropped.client as unknown as { isUsable: () => boolean }).isUsable = () => false;
    expect(await pool.take('a')).toBeNull();
    expect(await pool.take('b')).toBeNull();
    expect(pool.size).toBe(0);
    await pool.close();
    expect(refused.quit).toHaveBeenCalledTimes(1);
    expect(dropped.quit).toHaveBeenCalledTimes(1);
  });
});
