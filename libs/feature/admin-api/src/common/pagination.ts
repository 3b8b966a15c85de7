import { z } from 'zod';
import { invalidField } from './errors';

/**
 * Cursor (keyset) pagination, the same on every list: `?limit=&cursor=` in, and
 * `{ "items": [...], "nextCursor": "..." | null }` out. The cursor is opaque to clients
 * (base64url of the last item's sort key), so a page is stable while rows are added or
 * deleted, unlike offsets.
 */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Items per page (1-500).'),
  cursor: z.string().max(1024).optional().describe('`nextCursor` of the previous page.'),
});
export type PageQuery = z.output<typeof PageQuery>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The OpenAPI shape of a page of `item`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

type Direction = 'asc' | 'desc';
type Row = Record<string, unknown>;

/**
 * How a list is ordered: by one unique column (`name`, `address`), or by a timestamp with
 * the id as tie-breaker (`createdAt`, `receivedAt`).
 */
export interface Keyset {
  field: string;
  direction: Direction;
  /** The field is a timestamp, not unique: the id breaks ties. */
  time?: boolean;
}

function decode(cursor: string): unknown[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.every((v) => typeof v === 'string')) return values;
  } catch {
    // fall through
  }
  throw invalidField('cursor', 'not a cursor returned by this API');
}

function encode(values: string[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** The Prisma `where` (to AND with the filters) and `orderBy` for one page after `cursor`. */
export function keysetQuery(keyset: Keyset, cursor: string | undefined): { where: Row; orderBy: Row[] } {
  const { field, direction, time } = keyset;
  const cmp = direction === 'asc' ? 'gt' : 'lt';
  const orderBy: Row[] = time ? [{ [field]: direction }, { id: direction }] : [{ [field]: direction }];
  if (cursor === undefined) return { where: {}, orderBy };
  const values = decode(cursor);
  if (!time) {
    if (values.length !== 1) throw invalidField('cursor', 'not a cursor returned by this API');
    return { where: { [field]: { [cmp]: values[0] } }, orderBy };
  }
  const at = new Date(String(values[0]));
  if (values.length !== 2 || Number.isNaN(at.getTime()) || !/^[0-9a-f-]{36}$/.test(String(values[1])))
    throw invalidField('cursor', 'not a cursor returned by this API');
  return {
    where: { OR: [{ [field]: { [cmp]: at } }, { [field]: at, id: { [cmp]: values[1] } }] },
    orderBy,
  };
}

/**
 * Runs a page query: fetches `limit + 1` rows to know whether there is a next page, and
 * maps the rows to what the API returns.
 */
export async function paginate<R extends Row, T>(
  keyset: Keyset,
  page: PageQuery,
  fetch: (args: { where: Row; orderBy: Row[]; take: number }) => Promise<R[]>,
  view: (row: R) => T,
): Promise<Page<T>> {
  const { where, orderBy } = keysetQuery(keyset, page.cursor);
  const rows = await fetch({ where, orderBy, take: page.limit + 1 });
  const more = rows.length > page.limit;
  const items = more ? rows.slice(0, page.limit) : rows;
  const last = items.at(-1);
  let nextCursor: string | null = null;
  if (more && last) {
    const key = last[keyset.field];
    nextCursor = keyset.time
      ? encode([(key as Date).toISOString(), String(last['id'])])
      : encode([String(key)]);
  }
  return { items: items.map(view), nextCursor };
}
