import { clientNetwork } from '@mta/smtp-server';
import type { Redis } from 'ioredis';

export interface AuthThrottleOptions {
  /** Redis key prefix (REDIS_PREFIX), shared by every submission replica. */
  prefix: string;
  /** Failures are counted over this window, seconds. Default 15 minutes. */
  windowSeconds?: number;
  /** Failures from one client IP within the window before it is locked out. Default 10. */
  maxPerIp?: number;
  /** Failures for one account within the window before it is locked out. Default 5. */
  maxPerAccount?: number;
  /** Delay after the first failure, ms; doubles with each further failure. Default 500. */
  baseDelayMs?: number;
  /** Longest delay, ms. Default 8000. */
  maxDelayMs?: number;
}

/**
 * Slows down and then locks out password guessing, per client IP and per account, across all
 * replicas (the counters live in Redis). A failed attempt is answered only after a delay that
 * doubles with each failure; past the limit, attempts are refused without checking the
 * password until the window has passed. If Redis is unreachable the throttle steps aside
 * (passwords are still verified): an outage of Redis must not lock every user out.
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

  /** Whether this client or this account is locked out right now. */
  async lockedOut(ip: string, account: string): Promise<boolean> {
    try {
      const [byIp, byAccount] = await this.redis.mget(this.key('ip', ip), this.key('account', account));
      return Number(byIp ?? 0) >= this.maxPerIp || Number(byAccount ?? 0) >= this.maxPerAccount;
    } catch {
      return false;
    }
  }

  /** Records a failure and returns how long to wait before answering it, ms. */
  async failed(ip: string, account: string): Promise<number> {
    try {
      const result = await this.redis
        .multi()
        .incr(this.key('ip', ip))
        .expire(this.key('ip', ip), this.window, 'NX')
        .incr(this.key('account', account))
        .expire(this.key('account', account), this.window, 'NX')
        .exec();
      const failures = Math.max(Number(result?.[0]?.[1] ?? 1), Number(result?.[2]?.[1] ?? 1));
      return Math.min(this.baseDelayMs * 2 ** (failures - 1), this.maxDelayMs);
    } catch {
      return this.baseDelayMs;
    }
  }

  /** A successful login clears the account's failures (not the IP's: one good password must not reset a spray). */
  async succeeded(account: string): Promise<void> {
    await this.redis.del(this.key('account', account)).catch(() => undefined);
  }

  /** An IPv6 client counts by its /64, as for the connection limit (clientNetwork). */
  private key(kind: 'ip' | 'account', value: string): string {
    const unit = kind === 'ip' ? clientNetwork(value) : value;
    return `${this.options.prefix}:auth-failures:${kind}:${unit.toLowerCase()}`;
  }
}
