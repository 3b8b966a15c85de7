/**
 * What a service says while PostgreSQL or Redis does not answer: one clear line when it goes
 * (which dependency, its address, the cause), then one line a minute while it lasts, and one
 * when it answers again, instead of a line per failed call. `/readyz` reports the same cause.
 *
 * While a dependency is known to be down, the logger (logger.ts) drops the lines of failed
 * calls whose error names that dependency (its address, or what its client says when the
 * connection is gone) and counts them; the minute line says how many.
 */

/** Errors of a connection that did not get through (with the address in the message). */
const UNREACHABLE =
  /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONNRESET|Can't reach database server/;

/** What an outage needs of a logger (a pino `Logger` is one). */
export interface OutageLog {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface OutageOptions {
  /** Between two "still unreachable" lines. Default one minute. */
  repeatMs?: number;
  now?: () => number;
  /** Further messages of this dependency's clients that mean "not connected". */
  clientMessages?: RegExp;
}

/** `host:port` of a connection URL, without credentials or database. */
export function addressOf(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || defaultPort}`;
  } catch {
    return 'an invalid URL';
  }
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/**
 * The useful part of a client's error: the innermost cause (the socket's error under a
 * driver's), the last line of a multi-line message (Prisma's end with the reason), and of
 * Prisma's "Raw query failed. Code: `N/A`. Message: `<reason>`" the reason.
 */
export function causeOf(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const text = inner instanceof Error ? inner.message : String(inner);
  const last = text.trim().split('\n').filter(Boolean).pop() ?? 'unknown error';
  return /Message: `([^`]+)`/.exec(last)?.[1] ?? last;
}

export class DependencyOutage {
  private since: number | undefined;
  private cause = '';
  private lastLine = 0;
  private quiet = 0;
  private readonly repeatMs: number;
  private readonly now: () => number;

  constructor(
    /** `postgres`, `redis`. */
    readonly name: string,
    /** `host:port`. */
    readonly address: string,
    private readonly log: OutageLog,
    private readonly options: OutageOptions = {},
  ) {
    this.repeatMs = options.repeatMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  get down(): boolean {
    return this.since !== undefined;
  }

  /** A connection attempt or a call failed because the dependency is unreachable. */
  failed(error: unknown): void {
    const t = this.now();
    this.cause = causeOf(error);
    const fields = { dependency: this.name, address: this.address, cause: this.cause };
    if (this.since === undefined) {
      this.since = this.lastLine = t;
      this.log.error(
        fields,
        `${this.name} at ${this.address} is unreachable: ${this.cause}; retrying, one line a minute while it lasts`,
      );
      return;
    }
    if (t - this.lastLine < this.repeatMs) return;
    this.lastLine = t;
    const suppressed = this.quiet;
    this.quiet = 0;
    this.log.warn(
      { ...fields, suppressed },
      `${this.name} at ${this.address} still unreachable after ${duration(t - this.since)}: ${this.cause}`,
    );
  }

  /** It answered again. */
  answered(): void {
    if (this.since === undefined) return;
    const t = this.now();
    this.log.info(
      { dependency: this.name, address: this.address, downMs: t - this.since },
      `${this.name} at ${this.address} answers again after ${duration(t - this.since)}`,
    );
    this.since = undefined;
    this.quiet = 0;
  }

  /** For /readyz: why it is not ready, or undefined while it answers. */
  reason(): string | undefined {
    if (this.since === undefined) return undefined;
    return `unreachable at ${this.address} for ${duration(this.now() - this.since)}: ${this.cause}`;
  }

  /**
   * True (and counted) when a log line's error is this outage, said by some caller: a failed
   * connection to this address (which starts the outage if nothing had yet: any of the
   * process's connections may be the first to notice), or, during the outage, anything naming
   * the address or what the client says without a connection.
   */
  swallows(message: string): boolean {
    const names = message.includes(this.address);
    if (this.since === undefined) {
      if (!names || !UNREACHABLE.test(message)) return false;
      this.failed(message);
      return true;
    }
    const hit = names || (this.options.clientMessages?.test(message) ?? false);
    if (hit) this.quiet++;
    return hit;
  }
}

/** The outages of this process that the logger consults (one per dependency). */
export class Outages {
  private readonly all: DependencyOutage[] = [];

  add(outage: DependencyOutage): DependencyOutage {
    this.all.push(outage);
    return outage;
  }

  swallows(message: string): boolean {
    return this.all.some((o) => o.swallows(message));
  }
}
