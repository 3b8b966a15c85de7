/**
 * Policy settings of accounts and domains set through the admin API: an account's own submission
 * limits (accounts.rate_limits), a domain's greylisting switch (domains.greylisting).
 */
import type { PrismaClient } from '@mta/db';
import { z } from 'zod';
import type { AccountLimitOverrides } from './checks';

const limit = z.number().int().min(0).max(10_000_000).nullable().optional();

/**
 * The `rateLimits` of an account: each a whole number (0: no limit) or null/absent for the
 * configured default. The admin API validates with it, the policy service reads with it.
 */
export const AccountRateLimits = z
  .object({
    messagesPerHour: limit,
    messagesPerDay: limit,
    recipientsPerHour: limit,
    recipientsPerDay: limit,
  })
  .strict();

/**
 * Reads an account's limits, cached for `ttlMs` per login (every MAIL and RCPT on submission
 * asks): a change through the API takes effect within that time.
 */
export class PrismaAccountLimits {
  private readonly cache = new Map<string, { at: number; value: AccountLimitOverrides | null }>();

  constructor(
    private readonly db: PrismaClient,
    private readonly ttlMs = 5000,
  ) {}

  async get(login: string): Promise<AccountLimitOverrides | null> {
    const cached = this.cache.get(login);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.value;
    const row = await this.db.account.findUnique({ where: { address: login }, select: { rateLimits: true } });
    const parsed = AccountRateLimits.safeParse(row?.rateLimits ?? {});
    const value = parsed.success ? parsed.data : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(login, { at: Date.now(), value });
    return value;
  }

  /** Whether the account has at least one limit of its own. */
  async hasOwn(login: string): Promise<boolean> {
    const own = await this.get(login);
    return own !== null && Object.values(own).some((v) => v !== null && v !== undefined);
  }
}

/** A domain's own greylisting switch, or null (the GREYLISTING setting); cached for `ttlMs`. */
export class PrismaDomainGreylisting {
  private readonly cache = new Map<string, { at: number; value: boolean | null }>();

  constructor(
    private readonly db: PrismaClient,
    private readonly ttlMs = 5000,
  ) {}

  async get(domain: string): Promise<boolean | null> {
    const cached = this.cache.get(domain);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.value;
    const row = await this.db.domain.findUnique({ where: { name: domain }, select: { greylisting: true } });
    const value = row?.greylisting ?? null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(domain, { at: Date.now(), value });
    return value;
  }
}
