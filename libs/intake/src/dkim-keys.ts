import type { PrismaClient } from '@mta/db';
import { signingKeys, type DkimSigningKey } from '@mta/policy';

/** The DKIM keys that sign a domain's mail (submission; ARC sealing may use them too). */
export interface DkimKeyStore {
  /** The keys to sign with for `domain` (lower-case): the newest active one of each algorithm. */
  signingKeys(domain: string): Promise<DkimSigningKey[]>;
}

/**
 * The `dkim_keys` table, asked once per domain within `ttlMs` (like the domains of
 * directory.ts): a key activated, deactivated or deleted through the API signs, or stops
 * signing, within that time. Private keys are held in memory and never logged.
 */
export class PrismaDkimKeyStore implements DkimKeyStore {
  private readonly cache = new Map<string, { at: number; keys: DkimSigningKey[] }>();

  constructor(
    private readonly db: PrismaClient,
    private readonly ttlMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  async signingKeys(domain: string): Promise<DkimSigningKey[]> {
    const cached = this.cache.get(domain);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.keys;
    const rows = await this.db.dkimKey.findMany({
      where: { active: true, domain: { name: domain } },
      select: { selector: true, algorithm: true, privateKey: true, active: true, createdAt: true },
    });
    const keys = signingKeys(domain, rows);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(domain, { at: this.now(), keys });
    return keys;
  }
}
