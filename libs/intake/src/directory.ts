import type { PrismaClient } from '@mta/db';
import type pg from 'pg';

/** One of our mailboxes: an account, or an alias with its targets. */
export type Mailbox =
  | { kind: 'account' }
  /**
   * `targets`: the addresses of its enabled target accounts and its address targets as stored,
   * in the order they were added; a disabled target account is left out.
   */
  | { kind: 'alias'; targets: string[] };

/** What intake needs to know about the domains and mailboxes we host. */
export interface Directory {
  /** The domain's type if we host it (local) or relay for it, else null. */
  domain(
    name: string,
  ): Promise<{ type: 'local' | 'relay'; acceptAll: boolean; dmarcEnforce: boolean } | null>;
  /** The enabled account or alias at `address` (lower-case), else null. */
  mailbox(address: string): Promise<Mailbox | null>;
}

/**
 * The directory in PostgreSQL. Every RCPT asks, and the directory changes rarely, so answers
 * are cached for a few seconds (`ttlMs`): a new domain is live within that time. Mailboxes are
 * cached only when they exist: a mailbox just created must never get a permanent 550 from a
 * stale "unknown", whereas one just removed at worst takes mail for a few more seconds, which
 * its local delivery then bounces. An alias's targets are cached with it (a change is live
 * within `ttlMs`).
 */
export class PrismaDirectory implements Directory {
  private readonly domains = new Map<
    string,
    { at: number; value: Awaited<ReturnType<Directory['domain']>> }
  >();
  /** Mailboxes found to exist, with when. */
  private readonly mailboxes = new Map<string, { at: number; value: Mailbox }>();

  constructor(
    private readonly db: PrismaClient,
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly ttlMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  async domain(name: string) {
    const cached = this.domains.get(name);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.value;
    const row = await this.db.domain.findUnique({
      where: { name },
      select: { type: true, acceptAll: true, dmarcEnforce: true },
    });
    const value = row ? { type: row.type, acceptAll: row.acceptAll, dmarcEnforce: row.dmarcEnforce } : null;
    if (this.domains.size > 10_000) this.domains.clear();
    this.domains.set(name, { at: this.now(), value });
    return value;
  }

  /**
   * One round trip on the plain pool, unless the mailbox was found within `ttlMs`. Unnamed: a
   * prepared statement's generic plan, made while there were few accounts, would scan them all
   * once there are many (see libs/queue-state/src/sql/builder.ts).
   */
  async mailbox(address: string): Promise<Mailbox | null> {
    const cached = this.mailboxes.get(address);
    if (cached !== undefined && this.now() - cached.at < this.ttlMs) return cached.value;
    const { rows } = await this.pool.query<{ kind: 'account' | 'alias'; targets: string[] | null }>({
      text: `SELECT 'account' AS kind, NULL::text[] AS targets FROM accounts WHERE address = $1 AND NOT disabled
             UNION ALL
             SELECT 'alias', ARRAY(
                      SELECT COALESCE(acc.address, t.address)
                        FROM alias_targets t LEFT JOIN accounts acc ON acc.id = t.account_id
                       WHERE t.alias_id = a.id AND (t.account_id IS NULL OR NOT acc.disabled)
                       ORDER BY t.created_at, t.id)
               FROM aliases a WHERE a.address = $1 AND NOT a.disabled`,
      values: [address],
    });
    const row = rows[0];
    if (!row) {
      this.mailboxes.delete(address);
      return null;
    }
    const value: Mailbox =
      row.kind === 'account' ? { kind: 'account' } : { kind: 'alias', targets: row.targets ?? [] };
    if (this.mailboxes.size > 10_000) this.mailboxes.clear();
    this.mailboxes.set(address, { at: this.now(), value });
    return value;
  }
}
