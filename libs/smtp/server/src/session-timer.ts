/**
 * The one timer of a connection: RFC 5321 §4.5.3.2 timeouts (5 minutes waiting for a command,
 * §4.5.3.2.7; a data block timeout during DATA/BDAT), the handler hook timeout, and the odd
 * one-shot (greeting delay, TLS handshake, linger after QUIT).
 *
 * Input only records the time (`touch`), a hook only records its start: the timer, armed for at
 * most the shortest of the timeouts, asks on firing for the deadline that applies now and re-arms
 * for exactly what is left. So there is no timer work per chunk, per mode change or per hook.
 */
export class SessionTimer {
  private timer: NodeJS.Timeout | null = null;
  /** The armed timer is the timeout check (not a one-shot): `watch` need not re-arm it. */
  private watching = false;
  private _lastInput = 0;

  constructor(
    /** The shortest configured timeout (ms); 0: none at all. */
    private readonly period: number,
    /** The deadline (epoch ms) that applies now, or null for none. */
    private readonly deadline: () => number | null,
    private readonly expired: () => void,
  ) {}

  get lastInput(): number {
    return this._lastInput;
  }

  /** The client sent something. */
  touch(): void {
    this._lastInput = Date.now();
  }

  /**
   * Start (or restart) watching: the client's silence counts from now. An armed check is kept as
   * it is: it fires within `period` and re-arms for what is left of the deadline then, so a new
   * timer per call (twice per connection at least) would change nothing but the cost.
   */
  watch(): void {
    this._lastInput = Date.now();
    if (this.watching && this.timer !== null) return;
    this.set(this.period, this.check);
    this.watching = this.timer !== null;
  }

  /** A one-shot instead of the timeouts (until `watch` again). */
  set(ms: number, fire: () => void): void {
    this.clear();
    if (ms > 0) this.timer = setTimeout(fire, ms);
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.watching = false;
  }

  private check = (): void => {
    const deadline = this.deadline();
    const left = deadline === null ? this.period : deadline - Date.now();
    this.timer = null;
    this.watching = false;
    if (left > 0) {
      this.timer = setTimeout(this.check, Math.min(left, this.period));
      this.watching = true;
      return;
    }
    this.expired();
  };
}

/** The shortest of the positive timeouts, 0 if none is set. */
export function shortestTimeout(...ms: number[]): number {
  const positive = ms.filter((m) => m > 0);
  return positive.length === 0 ? 0 : Math.min(...positive);
}
