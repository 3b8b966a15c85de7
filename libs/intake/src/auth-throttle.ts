import { clientNetwork } from '@mta/smtp-server';
import type { Redis } from 'ioredis';

export interface AuthThrottleOptions {
  /** Redis key prefix (REDIS_PREFIX), shared by every submission replica. */
  prefix: string;
  /** Failures are counted over this window, seconds. Default 15 minutes. */
  windowSeconds?: number;
  /** Failures from one client IP (IPv6: its /64) within the window before it is locked out. Default 10. */
  maxPerIp?: number;
  /**
   * Failures for one account from one network (IPv4 /24, IPv6 /64) within the window before the
   * account is locked out for that network only. Default 5.
   */
  maxPerAccount?: number;
  /** Delay after the first failure, ms; doubles with each further failure. Default 500. */
  baseDelayMs?: number;
  /** Longest delay, ms. Default 8000. */
  maxDelayMs?: number;
}

/**
 * Slows down and then locks out password guessing across all replicas (the counters live in
 * Redis), without letting anyone lock a user out:
 * - a client (IPv4 address, IPv6 /64) with `maxPerIp` failures is locked out, whatever account;
 * - an account with `maxPerAccount` failures from one network (IPv4 /24, IPv6 /64) is locked out
 *   for that network only: its owner elsewhere still logs in;
 * - every failed attempt is answered after a delay that doubles with the failures of the account
 *   from all networks together (or of the client, whichever is more), up to `maxDelayMs`: a
 *   guesser spread over many networks is slowed down, the owner's correct password is not.
 * Locked out, attempts are refused without checking the password until the window has passed.
 * If Redis is unreachable the throttle steps aside (passwords are still verified): an outage of
 * Redis must not lock every user out.
 */
export class AuthThrottle {
  private readonly window: number;
  private readonly maxPerIp: number;
  private readonly maxPerAccount: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: AuthThrottleOptions,
  ) {
    this.window = options.windowSeconds ?? 900;
    this.maxPerIp = options.maxPerIp ?? 10;
    this.maxPerAccount = options.maxPerAccount ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
  }

  /** Whether this client, or this account from this client's network, is locked out right now. */
  async lockedOut(ip: string, account: string): Promise<boolean> {
    try {
      const [byIp, byAccount] = await this.redis.mget(this.ipKey(ip), this.accountKey(account, ip));
      return Number(byIp ?? 0) >= this.maxPerIp || Number(byAccount ?? 0) >= this.maxPerAccount;
    } catch {
      return false;
    }
  }

  /** Records a failure and returns how long to wait before answering it, ms. */
  async failed(ip: string, account: string): Promise<number> {
    try {
      const keys = [this.ipKey(ip), this.accountKey(account, ip), this.accountKey(account, null)];
      const multi = this.redis.multi();
      for (const key of keys) multi.incr(key).expire(key, this.window, 'NX');
      const result = await multi.exec();
      const byIp = Number(result?.[0]?.[1] ?? 1);
      const byAccount = Number(result?.[4]?.[1] ?? 1);
      return Math.min(this.baseDelayMs * 2 ** (Math.max(byIp, byAccount) - 1), this.maxDelayMs);
    } catch {
      return this.baseDelayMs;
    }
  }

  /**
   * A successful login clears the account's failures from this network. Not the client's, nor
   * the account's across networks: one good password must not reset a spray.
   */
  async succeeded(ip: string, account: string): Promise<void> {
    await this.redis.del(this.accountKey(account, ip)).catch(() => undefined);
  }

  /** An IPv6 client counts by its /64, as for the connection limit (clientNetwork). */
  private ipKey(ip: string): string {
    return `${this.options.prefix}:auth-failures:ip:${clientNetwork(ip).toLowerCase()}`;
  }

  /** The account's failures from one network (`ip`'s), or from all of them (null). */
  private accountKey(account: string, ip: string | null): string {
    const where = ip === null ? 'all' : accountNetwork(ip);
    return `${this.options.prefix}:auth-failures:account:${account.toLowerCase()}:${where}`;
  }
}

/**
 * The network an account's failures are counted by: IPv4 /24 (an attacker seldom holds a whole
 * one, and a household or office NAT is inside one), IPv6 /64 (one host's share, RFC 4291 §2.5.4).
 */
export function accountNetwork(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.\d+$/i.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  return clientNetwork(ip).toLowerCase();
}
