/**
 * Traffic shaping per destination (issue 21), after KumoMTA's egress path settings
 * (`connection_limit`, `max_deliveries_per_connection`, `max_message_rate`):
 *
 * - `maxConnections`: SMTP sessions delivering to the destination at once, across every delivery
 *   process (the Redis semaphore of destination-limiter.ts). RFC 5321 §4.5.4.1 asks a client to
 *   limit its simultaneous connections to one host; Postfix's default is 20.
 * - `maxMessagesPerConnection`: after so many messages a session is closed with QUIT and the next
 *   delivery opens a new one (the pool, connection-pool.ts).
 * - `maxMessageRate`: messages per period, cluster-wide (the GCRA of rate-limiter.ts).
 *
 * The destination is the recipient domain (the delivery job's `destination`) by default, or,
 * with `DELIVERY_SHAPING_BY=mx`, KumoMTA's "site": the set of MX hosts (site.ts), so that the
 * domains one provider hosts share one budget. Under `domain` keying such domains each have their
 * own; give the big ones an override.
 *
 * Overrides live in PostgreSQL (`delivery_shaping`, `/api/v1/shaping`), each naming a domain: a
 * recipient domain under `domain` keying; under `mx` keying, an MX host name, and a site takes the
 * override of the first of its hosts (in name order) that has one. A
 * `ShapingTable` reloads them every `refreshMs`, so an override applies within that long and a
 * lookup on the hot path is a `Map.get`.
 */
import type { MessageRate } from '@mta/config';
import { parseMessageRate } from '@mta/config';
import type pg from 'pg';
import { siteHosts } from './site';

export interface Shaping {
  readonly maxConnections: number;
  readonly maxMessagesPerConnection: number;
  /** Null: no rate limit. */
  readonly maxMessageRate: MessageRate | null;
}

/** One row of `delivery_shaping`: null fields take the defaults. */
export interface ShapingOverride {
  readonly domain: string;
  readonly maxConnections: number | null;
  readonly maxMessagesPerConnection: number | null;
  readonly maxMessageRate: MessageRate | null;
}

export interface ShapingSource {
  /** The shaping of `destination` (lower case), defaults merged with its override. */
  shapingOf(destination: string): Shaping;
}

/**
 * Defaults polite to a small receiver: 20 sessions (Postfix `default_destination_concurrency_limit`;
 * KumoMTA's example `connection_limit` is 32), 100 messages per session (KumoMTA defaults to
 * 1024; a small receiver's per-session limits, e.g. Postfix `smtpd_client_message_rate_limit`,
 * are met sooner than with one long session), no rate (neither Postfix nor KumoMTA has one).
 */
export const DEFAULT_SHAPING: Shaping = {
  maxConnections: 20,
  maxMessagesPerConnection: 100,
  maxMessageRate: null,
};

export class ShapingTable implements ShapingSource {
  private overrides = new Map<string, ShapingOverride>();
  private timer?: NodeJS.Timeout;

  constructor(
    /** What a destination without an override gets. */
    readonly defaults: Shaping = DEFAULT_SHAPING,
    private readonly load?: () => Promise<readonly ShapingOverride[]>,
  ) {}

  shapingOf(destination: string): Shaping {
    const key = destination.toLowerCase();
    const o = this.overrides.get(key) ?? this.siteOverride(key);
    if (!o) return this.defaults;
    return {
      maxConnections: o.maxConnections ?? this.defaults.maxConnections,
      maxMessagesPerConnection: o.maxMessagesPerConnection ?? this.defaults.maxMessagesPerConnection,
      maxMessageRate: o.maxMessageRate ?? this.defaults.maxMessageRate,
    };
  }

  /** A site (`mx:` keying) takes the override of the first of its MX hosts that has one. */
  private siteOverride(destination: string): ShapingOverride | undefined {
    for (const host of siteHosts(destination)) {
      const o = this.overrides.get(host);
      if (o) return o;
    }
    return undefined;
  }

  /** Replaces the overrides (tests, or a caller with its own source). */
  set(overrides: readonly ShapingOverride[]): void {
    this.overrides = new Map(overrides.map((o) => [o.domain.toLowerCase(), o]));
  }

  /** Loads the overrides now; on failure the previous ones stay. */
  async refresh(): Promise<boolean> {
    if (!this.load) return false;
    try {
      this.set(await this.load());
      return true;
    } catch {
      return false; // PostgreSQL away: keep shaping with what we had
    }
  }

  /** Loads now, then every `refreshMs` (the timer does not keep the process alive). */
  async start(refreshMs: number): Promise<void> {
    await this.refresh();
    this.stop();
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Every row of `delivery_shaping`; a rate that no longer parses counts as none. */
export async function loadShapingOverrides(pool: Pick<pg.Pool, 'query'>): Promise<ShapingOverride[]> {
  const { rows } = await pool.query<{
    domain: string;
    max_connections: number | null;
    max_messages_per_connection: number | null;
    max_message_rate: string | null;
  }>('SELECT domain, max_connections, max_messages_per_connection, max_message_rate FROM delivery_shaping');
  return rows.map((r) => {
    const rate = r.max_message_rate === null ? null : parseMessageRate(r.max_message_rate);
    return {
      domain: r.domain,
      maxConnections: r.max_connections,
      maxMessagesPerConnection: r.max_messages_per_connection,
      maxMessageRate: typeof rate === 'string' ? null : rate,
    };
  });
}
