import type { PrismaClient } from '@mta/db';
import { describe, expect, it } from 'vitest';
import { PrismaDirectory } from './directory';

/** A pool that answers mailbox lookups from a set, counting the queries. */
function fakePool(existing: Set<string>) {
  const pool = {
    queries: 0,
    async query(config: { values: unknown[] }) {
      pool.queries += 1;
      return { rows: existing.has(String(config.values[0])) ? [{ kind: 'account', targets: null }] : [] };
    },
  };
  return pool;
}

describe('PrismaDirectory mailbox cache', () => {
  const setup = () => {
    let now = 1_000;
    const existing = new Set(['bob@local.example']);
    const pool = fakePool(existing);
    const directory = new PrismaDirectory({} as PrismaClient, pool as never, 5_000, () => now);
    return { directory, pool, existing, advance: (ms: number) => (now += ms) };
  };

  it('asks the database once per existing mailbox within the TTL, and again after it', async () => {
    const { directory, pool, advance } = setup();
    expect(await directory.mailbox('bob@local.example')).toEqual({ kind: 'account' });
    advance(4_999);
    expect(await directory.mailbox('bob@local.example')).toEqual({ kind: 'account' });
    expect(pool.queries).toBe(1);
    advance(1);
    expect(await directory.mailbox('bob@local.example')).toEqual({ kind: 'account' });
    expect(pool.queries).toBe(2);
  });

  it('never caches an unknown mailbox: one created a moment later is found at once', async () => {
    const { directory, pool, existing } = setup();
    expect(await directory.mailbox('new@local.example')).toBeNull();
    existing.add('new@local.example');
    expect(await directory.mailbox('new@local.example')).toEqual({ kind: 'account' });
    expect(pool.queries).toBe(2);
  });

  it('forgets a removed mailbox once the TTL has passed', async () => {
    const { directory, existing, advance } = setup();
    expect(await directory.mailbox('bob@local.example')).toEqual({ kind: 'account' });
    existing.delete('bob@local.example');
    advance(5_000);
    expect(await directory.mailbox('bob@local.example')).toBeNull();
  });
});
