/** When a child that died is started again: exponential backoff, like Postfix's master throttle. */
export interface BackoffOptions {
  /** Delay before the first restart (ms). Default 1 000. */
  readonly firstMs?: number;
  /** Longest delay (ms). Default 30 000. */
  readonly maxMs?: number;
  /** A child that ran this long before it died counts as healthy: the next delay is the first again (ms). Default 60 000. */
  readonly resetAfterMs?: number;
}

export const BACKOFF_DEFAULTS: Required<BackoffOptions> = { firstMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

/** The delay before restart number `failures` in a row (1 for the first): firstMs × 2^(failures-1), at most maxMs. */
export function restartDelay(failures: number, options: BackoffOptions = {}): number {
  const { firstMs, maxMs } = { ...BACKOFF_DEFAULTS, ...options };
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  return Math.min(maxMs, firstMs * 2 ** exponent);
}
