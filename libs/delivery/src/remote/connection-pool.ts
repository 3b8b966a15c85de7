/**
 * Idle SMTP sessions kept for the next delivery to the same host (Postfix's scache and
 * `smtp_connection_cache_*`): keyed by MX name, address and port; an idle session lives at
 * most `idleTimeoutMs` and carries at most `maxMessagesPerConnection` messages. RFC 5321
 * §4.5.3.2.7 lets a server drop a client idle for 5 minutes; we give up long before.
 *
 * A session is reset with RSET (RFC 5321 §4.1.1.5) when it is given back, not when it is
 * taken: the reply's round trip is then spent while the session idles, not by the next
 * delivery (Postfix resets before reuse, "one additional round-trip delay" per message; what
 * that cost against a slow receiver: bench/README.md, issue 21). A session whose RSET failed is closed and never handed out; one that the server
 * closed, or told something unasked (a 421), while idle is no longer `isUsable()` and is closed
 * at `take`. A delivery that takes a session whose RSET is still under way waits for it.
 *
 * An idle session keeps a connection slot of its destination (limits/destination-limiter.ts)
 * when the delivery that gives it back holds one: without a slot (the destination is full) it
 * is closed instead of kept. The slot is released when the session is taken (the delivery has
 * its own) or closed; when it is lost (a delivery elsewhere took it over), the session is closed.
 */
import type { SmtpClient } from '@mta/smtp-client';
import type { IdleSlot } from '../limits/destination-limiter';

export interface ConnectionPoolOptions {
  /** How long an idle session is kept (default 30 s; Postfix `smtp_connection_cache_time_limit` 2 s). */
  readonly idleTimeoutMs?: number;
  /** Messages per session before it is closed (default 100; Postfix `smtp_connection_reuse_count_limit`). */
  readonly maxMessagesPerConnection?: number;
  /**
   * Idle sessions kept per key (default 20, the default per-destination concurrency): fewer
   * than the deliveries that run at once to a host means that every session given back beyond
   * it is closed, and the next delivery pays a new connection, greeting and EHLO.
   */
  readonly maxIdlePerKey?: number;
  /**
   * Idle sessions kept in all (default 200): mail to many different hosts must not pile up
   * idle connections (file descriptors here, session slots there) for `idleTimeoutMs`.
   */
  readonly maxIdle?: number;
}

/** Per-destination limits of a session, when they differ from the pool's options. */
export interface SessionLimits {
  /** Messages per session (the destination's `maxMessagesPerConnection`). */
  readonly maxMessages?: number;
  /** Idle sessions kept for the key (the destination's `maxConnections`). */
  readonly maxIdlePerKey?: number;
}

interface Idle {
  readonly client: SmtpClient;
  readonly timer: NodeJS.Timeout;
  /** The RSET sent when the session was given back: true once it got 250. */
  readonly reset: Promise<boolean>;
  /** Whether that RSET has been answered (or failed). */
  settled: boolean;
  /** The destination's connection slot it keeps, when the delivery had one. */
  readonly slot?: IdleSlot;
}

export class SmtpConnectionPool {
  private readonly idle = new Map<string, Idle[]>();
  private readonly closing = new Set<Promise<void>>();
  private closed = false;
  private readonly idleTimeoutMs: number;
  private readonly maxMessages: number;
  private readonly maxIdlePerKey: number;
  private readonly maxIdle: number;
  /** Idle sessions, all keys together. */
  private idleCount = 0;

  constructor(options: ConnectionPoolOptions = {}) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.maxMessages = options.maxMessagesPerConnection ?? 100;
    this.maxIdlePerKey = options.maxIdlePerKey ?? 20;
    this.maxIdle = options.maxIdle ?? 200;
  }

  static key(host: string, address: string | undefined, port: number): string {
    return `${host.toLowerCase()}|${address ?? ''}|${port}`;
  }

  /** Idle sessions, all keys together. */
  get size(): number {
    return this.idleCount;
  }

  /**
   * An idle session for `key`, reset (RSET 250) and still usable, or null: the most recently
   * given back of those whose RSET was answered, else the most recent one (after its RSET). One
   * that has carried `limits.maxMessages` already (the destination's limit was lowered
   * meanwhile) is closed.
   */
  async take(key: string, limits: SessionLimits = {}): Promise<SmtpClient | null> {
    for (;;) {
      const entry = this.pick(key);
      if (!entry) return null;
      if (entry.client.messagesSent >= (limits.maxMessages ?? this.maxMessages)) {
        this.quitAfterReset(entry);
        continue;
      }
      if ((await entry.reset) && entry.client.isUsable()) {
        void entry.slot?.release().catch(() => undefined); // the taker holds a slot of its own
        return entry.client;
      }
      // The RSET failed (reset() closed it), or the server went away or spoke out of turn since.
      this.quitAfterReset(entry);
    }
  }

  /**
   * Takes the entry `take` hands out off the idle list (see there), or undefined. One whose slot
   * a delivery of this process took over comes first: that delivery's slot stands for it.
   */
  private pick(key: string): Idle | undefined {
    const list = this.idle.get(key);
    if (!list) return undefined;
    let i = list.findLastIndex((e) => e.slot?.takenHere);
    if (i === -1) {
      i = list.length - 1;
      while (i > 0 && !list[i].settled) i--;
      if (!list[i].settled) i = list.length - 1;
    }
    const [entry] = list.splice(i, 1);
    this.idleCount--;
    clearTimeout(entry.timer);
    if (list.length === 0) this.idle.delete(key);
    return entry;
  }

  /**
   * Give a session back after a delivery: kept if it can carry more, else closed with QUIT.
   * `limits` are the destination's traffic shaping (limits/shaping.ts), over the pool's defaults.
   */
  release(
    key: string,
    client: SmtpClient,
    limits: SessionLimits = {},
    idleSlot?: () => Promise<IdleSlot | null>,
  ): void {
    if (!this.keeps(key, client, limits)) return this.quit(client);
    if (!idleSlot) return this.keep(key, client);
    // Asked at once: the delivery's lease is turned into the idle one before it is released.
    const done = idleSlot()
      .catch(() => null) // Redis away: close it rather than keep it unaccounted
      .then((slot) => {
        if (slot && this.keeps(key, client, limits)) return this.keep(key, client, slot);
        const quitting = client.quit();
        return slot ? quitting.finally(() => slot.release().catch(() => undefined)) : quitting;
      })
      .finally(() => this.closing.delete(done));
    this.closing.add(done);
  }

  private keeps(key: string, client: SmtpClient, limits: SessionLimits): boolean {
    return !(
      this.closed ||
      !client.isUsable() ||
      client.messagesSent >= (limits.maxMessages ?? this.maxMessages) ||
      (this.idle.get(key)?.length ?? 0) >= (limits.maxIdlePerKey ?? this.maxIdlePerKey) ||
      this.idleCount >= this.maxIdle
    );
  }

  private keep(key: string, client: SmtpClient, slot?: IdleSlot): void {
    const timer = setTimeout(() => this.expire(key, client), this.idleTimeoutMs);
    timer.unref(); // an idle session must not keep the process alive
    // reset() never rejects for the server's reasons; it closes the session when RSET fails.
    const reset = client.reset().catch(() => false);
    const entry: Idle = { client, timer, reset, settled: false, slot };
    void reset.then(() => (entry.settled = true));
    slot?.signal.addEventListener('abort', () => this.expire(key, client), { once: true });
    const list = this.idle.get(key) ?? [];
    list.push(entry);
    this.idleCount++;
    this.idle.set(key, list);
  }

  /** Close a session in the background; `close()` waits for it. */
  quit(client: SmtpClient): void {
    const done = client.quit().finally(() => this.closing.delete(done));
    this.closing.add(done);
  }

  /** Close an idle session once its RSET is answered (one command at a time); `close()` waits for it. */
  private quitAfterReset(entry: Idle): void {
    const done = entry.reset
      .then(() => entry.client.quit())
      .finally(() => entry.slot?.release().catch(() => undefined)) // once the socket is closed
      .finally(() => this.closing.delete(done));
    this.closing.add(done);
  }

  /** QUIT every idle session and wait until every socket is closed. Later releases are closed at once. */
  async close(): Promise<void> {
    this.closed = true;
    for (const list of this.idle.values()) {
      for (const entry of list) {
        clearTimeout(entry.timer);
        this.quitAfterReset(entry);
      }
    }
    this.idle.clear();
    this.idleCount = 0;
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  private expire(key: string, client: SmtpClient): void {
    const list = this.idle.get(key);
    if (!list) return;
    const i = list.findIndex((e) => e.client === client);
    if (i === -1) return;
    const [entry] = list.splice(i, 1);
    clearTimeout(entry.timer); // when the slot was lost before the idle time was up
    this.idleCount--;
    if (list.length === 0) this.idle.delete(key);
    this.quitAfterReset(entry);
  }
}
