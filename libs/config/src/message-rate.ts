/**
 * A message rate, `quantity/period`, as KumoMTA writes its throttles (`max_message_rate`):
 * `10/s`, `50/min`, `1,000/h`, `10_000/day`. Used by `DELIVERY_MAX_MESSAGE_RATE` and by the
 * per-domain overrides of the admin API (`/api/v1/shaping`), so both accept the same text.
 */
export interface MessageRate {
  /** Messages allowed per `periodMs`. */
  readonly count: number;
  readonly periodMs: number;
}

const PERIODS: Record<string, number> = {
  s: 1_000,
  sec: 1_000,
  second: 1_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

/** The rate, or an error text. At most 100,000 messages per second. */
export function parseMessageRate(value: string): MessageRate | string {
  const m = /^\s*(\d[\d,_]{0,12})\s*\/\s*([a-z]+)\s*$/i.exec(value);
  const periodMs = m ? PERIODS[m[2].toLowerCase()] : undefined;
  if (!m || periodMs === undefined)
    return `expected a rate such as 10/s, 50/min, 1000/h or 10000/day, got "${value}"`;
  const count = Number(m[1].replace(/[,_]/g, ''));
  if (!Number.isInteger(count) || count < 1) return `a rate needs at least 1 message, got "${value}"`;
  if ((count * 1_000) / periodMs > 100_000) return `at most 100000/s, got "${value}"`;
  return { count, periodMs };
}

/** The canonical text of a rate (`10/s`, `50/min`, `1000/h`, `10000/day`). */
export function formatMessageRate(rate: MessageRate): string {
  const unit =
    { 1_000: 's', 60_000: 'min', 3_600_000: 'h', 86_400_000: 'day' }[rate.periodMs] ?? `${rate.periodMs}ms`;
  return `${rate.count}/${unit}`;
}
