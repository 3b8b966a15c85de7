import type { PrismaClient } from '@mta/db';
import { describe, expect, it, vi } from 'vitest';
import { PrismaDkimKeyStore } from './dkim-keys';

// One unit: the cache in front of the `dkim_keys` query (the query itself runs in
// submission-dkim.int.spec.ts against PostgreSQL).
function store(rows: () => object[]) {
  const findMany = vi.fn(async () => rows());
  const db = { dkimKey: { findMany } } as unknown as PrismaClient;
  let now = 0;
  const keys = new PrismaDkimKeyStore(db, 5000, () => now);
  return { keys, findMany, advance: (ms: number) => (now += ms) };
}

const row = (selector: string, active = true) => ({
  selector,
  algorithm: 'rsa',
  privateKey: `pem ${selector}`,
  active,
  createdAt: new Date(`2026-12-0${selector === 'new' ? 5 : 1}T00:00:00Z`),
});

describe('PrismaDkimKeyStore', () => {
  it('asks once per domain within the TTL, and sees an activated key after it', async () => {
    let rows = [row('old')];
    const { keys, findMany, advance } = store(() => rows);
    expect((await keys.signingKeys('example.org')).map((k) => k.selector)).toEqual(['old']);
    rows = [row('old'), row('new')];
    advance(4999);
    expect((await keys.signingKeys('example.org')).map((k) => k.selector)).toEqual(['old']);
    expect(findMany).toHaveBeenCalledTimes(1);
    advance(1);
    expect((await keys.signingKeys('example.org')).map((k) => k.selector)).toEqual(['new']);
    expect(findMany).toHaveBeenCalledTimes(2);
  });

  it('caches "no key" too, per domain', async () => {
    const { keys, findMany } = store(() => []);
    expect(await keys.signingKeys('a.example')).toEqual([]);
    expect(await keys.signingKeys('a.example')).toEqual([]);
    expect(await keys.signingKeys('b.example')).toEqual([]);
    expect(findMany).toHaveBeenCalledTimes(2);
  });
});
