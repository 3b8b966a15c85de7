/**
 * The date-time of RFC 5322 §3.3, as written in Date, Received, Arrival-Date and the like:
 *
 *   date-time = [ day-of-week "," ] date time [CFWS]
 *   date      = day month year                 time = hour ":" minute [ ":" second ] FWS zone
 *   zone      = ("+" / "-") 4DIGIT             e.g. Thu, 26 Nov 2026 16:00:00 +0000
 *
 * The parser also takes the obsolete forms of §4.3: two- and three-digit years, the zone names
 * UT/GMT/EST/EDT/CST/CDT/MST/MDT/PST/PDT, military zones (taken as -0000, as §4.3 says), comments.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * Format a date as RFC 5322 §3.3 date-time: `Thu, 26 Nov 2026 16:00:00 +0000`.
 * @param offsetMinutes the zone to write it in, east of UTC (default 0: UTC, `+0000`)
 */
export function formatDate(date: Date = new Date(), offsetMinutes = 0): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('formatDate: invalid date');
  if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) >= 24 * 60) {
    throw new RangeError('formatDate: offset must be whole minutes within ±24 h');
  }
  const t = new Date(date.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
  return (
    `${DAYS[t.getUTCDay()]}, ${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${pad(t.getUTCFullYear(), 4)} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} ${zone}`
  );
}

/** Obsolete zone names of RFC 5322 §4.3, in minutes east of UTC. */
const ZONES: Record<string, number> = {
  UT: 0,
  GMT: 0,
  Z: 0,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
};

const DATE_TIME =
  /^(?:[A-Za-z]{3}\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,5})?$/;

/** Parse an RFC 5322 date-time (with the obsolete forms); undefined when it is not one. */
export function parseDate(text: string): Date | undefined {
  const cleaned = text
    .replace(/\((?:[^()\\]|\\.)*\)/g, ' ') // comments (one level is all that is seen in practice)
    .replace(/\s+/g, ' ')
    .trim();
  const m = DATE_TIME.exec(cleaned);
  if (!m) return undefined;
  const [, dd, mon, yy, hh, mi, ss, zone] = m;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === mon.toLowerCase());
  if (month < 0) return undefined;
  let year = Number(yy);
  // §4.3: a two-digit year below 50 is 20xx, otherwise 19xx; a three-digit year adds 1900.
  if (yy.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yy.length === 3) year += 1900;
  const [day, hour, minute, second] = [Number(dd), Number(hh), Number(mi), Number(ss ?? 0)];
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let offset = 0;
  if (zone && /^[+-]\d{4}$/.test(zone)) {
    const mins = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3));
    offset = zone[0] === '-' ? -mins : mins;
  } else if (zone) {
    offset = ZONES[zone.toUpperCase()] ?? 0; // military and unknown zones: -0000 (§4.3)
  }
  const utc = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offset * 60_000;
  const result = new Date(utc);
  // Reject 31 Feb and friends: Date.UTC would roll them over.
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return undefined;
  return result;
}
