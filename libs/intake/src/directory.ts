import type { PrismaClient } from '@mta/db';
import type pg from 'pg';

/** What intake needs to know about the domains and mailboxes we host. */
export interface Directory {
  /** The domain's type if we host it (local) or relay for it, else null. */
  domain(
    name: string,
  ): Promise<{ type: 'local' | 'relay'; acceptAll: boolean; dmarcEnforce: boolean } | null>;
  /** Whether `address` (lower-case) is an enabled account or alias. */
  mailboxExists(address: string): Promise<boolean>;
}

/**
 * The directory in PostgreSQL. Every RCPT asks, and the directory changes rarely, so answers
 * are cached for a few seconds (`ttlMs`): a new domain is live within that time. Mailboxes are
 * cached only when they exist: a mailbox just created must never get a permanent 550 from a
 * stale "unknown", whereas one just removed at worst takes mail for a few more seconds, which
 * its local delivery then bounces.
 */
export class PrismaDirectory implements Directory {
  private readonly domains = new Map<
    string,
    { at: number; value: Awaited<ReturnType<Directory['domain']>> }
  >();
  /** Addresses found to exist, with when. */
  private readonly mailboxes = new Map<string, number>();

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
   * One round trip on the plain pool, unless the address was found within `ttlMs`. Unnamed: a
   * prepared statement's generic plan, made while there were few accounts, would scan them all
   * once there are many (see libs/queue-manager/src/message-store.ts).
   */
  async mailboxExists(address: string): Promise<boolean> {
    const at = this.mailboxes.get(address);
    if (at !== undefined && this.now() - at < this.ttlMs) return true;
    const { rows } = await this.pool.query<{ found: boolean }>({
      text: `SELECT EXISTS (SELECT 1 FROM accounts WHERE address = $1 AND NOT disabled)
           OR EXISTS (SELECT 1 FROM aliases WHERE address = $1 AND NOT disabled) AS found`,
      values: [address],
    });
    const found = rows[0]?.found === true;
    if (found) {
      if (this.mailboxes.size > 10_000) this.mailboxes.clear();
      this.mailboxes.set(address, this.now());
    } else this.mailboxes.delete(address);
    return found;
  }
}
