/** The shared state the policy checks need, as small interfaces (Redis in redis-stores.ts). */

export type GreylistVerdict =
  /** First seen, or retried too early: defer for `retryInMs` more. */
  | { pass: false; retryInMs: number }
  /** Retried after the delay, or remembered from an earlier pass. */
  | { pass: true };

export interface GreylistStore {
  /**
   * Looks the triplet up at time `now` (ms): unknown → remembered as first seen now and
   * deferred; seen at least `delayMs` ago → passes and is remembered for `ttlMs` from now.
   */
  check(triplet: string, now: number, delayMs: number, ttlMs: number): Promise<GreylistVerdict>;
}

/** One counter and its limit over a window that starts at the counter's first event. */
export interface RateLimit {
  key: string;
  limit: number;
  windowMs: number;
  /** For the refusal text, e.g. `messages per hour`. */
  what: string;
}

export interface RateCounter {
  /**
   * Counts `amount` events on every limit at once, unless that would take one of them past
   * its limit: then nothing is counted and that limit is returned (refused attempts do not
   * use up the allowance).
   */
  hit(limits: readonly RateLimit[], amount?: number): Promise<RateLimit | null>;
}
