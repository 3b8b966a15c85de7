import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { keysetQuery, paginate } from './pagination';

describe('keyset pagination', () => {
  it('orders by a unique field and continues after the cursor', async () => {
    const rows = ['a', 'b', 'c'].map((name) => ({ id: name, name }));
    const page = await paginate(
      { field: 'name', direction: 'asc' },
      { limit: 2 },
      async (args) => rows.slice(0, args.take),
      (r) => r.name,
    );
    expect(page.items).toEqual(['a', 'b']);
    expect(keysetQuery({ field: 'name', direction: 'asc' }, page.nextCursor ?? undefined)).toEqual({
      where: { name: { gt: 'b' } },
      orderBy: [{ name: 'asc' }],
    });
  });

  it('breaks timestamp ties with the id', async () => {
    const at = new Date('2026-01-01T00:00:00.123Z');
    const id = '00000000-0000-4000-8000-000000000001';
    const rows = [
      { id, createdAt: at },
      { id: 'x', createdAt: at },
    ];
    const page = await paginate(
      { field: 'createdAt', direction: 'desc', time: true },
      { limit: 1 },
      async () => rows,
      (r) => r.id,
    );
    expect(
      keysetQuery({ field: 'createdAt', direction: 'desc', time: true }, page.nextCursor ?? undefined),
    ).toEqual({
      where: { OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id } }] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
  });

  it('has no next cursor on the last page, and refuses a forged cursor with a 400 naming it', async () => {
    const page = await paginate(
      { field: 'name', direction: 'asc' },
      { limit: 5 },
      async () => [{ name: 'a' }],
      (r) => r.name,
    );
    expect(page.nextCursor).toBeNull();
    for (const cursor of [
      '!!',
      Buffer.from('{"a":1}').toString('base64url'),
      Buffer.from('["x"]').toString('base64url'),
    ]) {
      const attempt = () => keysetQuery({ field: 'createdAt', direction: 'desc', time: true }, cursor);
      expect(attempt).toThrow(ApiError);
      try {
        attempt();
      } catch (error) {
        expect((error as ApiError).fields).toEqual([{ field: 'cursor', message: expect.any(String) }]);
      }
    }
  });
});
