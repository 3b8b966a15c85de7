/**
 * The Sender Rewriting Scheme (SRS), as libsrs2 and Mail::SRS (Shevek, "Sender Rewriting Scheme",
 * 2004) write it, so that a forwarded message keeps a bounce path that passes SPF (RFC 7208
 * §1.2.3 names forwarding as the case SPF breaks):
 *
 *     SRS0=HHHH=TT=orig-domain=orig-local@srs-domain       (we forward a plain sender)
 *     SRS1=HHHH=first-hop==HHHH=TT=orig-domain=orig-local@srs-domain   (we forward an SRS0 address)
 *
 * - TT: the day the address was made, days since the epoch modulo 1024, in two base32 characters
 *   (RFC 4648 alphabet); an address older than `maxAgeDays` (default 21, libsrs2's) is expired.
 * - HHHH: HMAC-SHA1 under the secret of the lower-cased fields (TT, domain, local part; for SRS1
 *   the first hop and the SRS0 part), base64, the first 4 characters; compared case-insensitively
 *   because some MTAs lower-case local parts on the way back (libsrs2 does the same).
 * - The separator after SRS0/SRS1 may be `=`, `+` or `-` on the way in; we write `=`.
 *
 * Hand-written: the only npm package, srs.js, is a single 0.1.0 release without types whose hash
 * is 4 hex digits (not libsrs2's base64, so other forwarders' tools would not agree with it),
 * compared case-sensitively and not in constant time, and whose day is rounded rather than
 * truncated. The scheme is small and fully specified by the formats above.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DAY_MS = 86_400_000;
/** The timestamp wraps every 1024 days (two base32 characters). */
const TIMESTAMP_CYCLE = 1024;
const HASH_LENGTH = 4;

export interface SrsOptions {
  /** The HMAC key (SRS_SECRET). */
  secret: string;
  /** Our domain that SRS addresses are in (SRS_DOMAIN), lower case. */
  domain: string;
  /** Days an address stays valid. Default 21. */
  maxAgeDays?: number;
  /** For tests. */
  now?: () => number;
}

/** Why an SRS address was not reversed. */
export type SrsError = 'not-srs' | 'malformed' | 'forged' | 'expired';

export type SrsReverse = { ok: true; address: string } | { ok: false; error: SrsError };

const SRS0 = /^srs0[=+-]([^=]+)=([^=]{2})=([^=]+)=(.+)$/i;
const SRS1 = /^srs1[=+-]([^=]+)=([^=]+)=[=+-](.+)$/i;

export class Srs {
  private readonly maxAgeDays: number;
  private readonly now: () => number;

  constructor(private readonly options: SrsOptions) {
    if (options.secret.length === 0) throw new Error('SRS needs a secret');
    this.maxAgeDays = options.maxAgeDays ?? 21;
    this.now = options.now ?? Date.now;
  }

  get domain(): string {
    return this.options.domain;
  }

  /** Whether `address` is in our SRS domain with an SRS0/SRS1 local part (valid or not). */
  isSrsAddress(address: string): boolean {
    const at = address.lastIndexOf('@');
    return at > 0 && address.slice(at + 1).toLowerCase() === this.domain && /^srs[01][=+-]/i.test(address);
  }

  /**
   * The envelope sender for a message we forward. The null sender stays null; one of our own SRS
   * addresses stays as it is; another forwarder's SRS0 address becomes SRS1 (so the way back
   * goes through that forwarder, which alone can check its own hash).
   */
  forward(sender: string): string {
    if (sender === '' || this.isSrsAddress(sender)) return sender;
    const at = sender.lastIndexOf('@');
    if (at <= 0) return sender;
    const local = sender.slice(0, at);
    // Domains are case-insensitive (RFC 5321 §2.4); the local part is the sender's and kept as is.
    const host = sender.slice(at + 1).toLowerCase();
    const srs0 = SRS0.exec(local);
    if (srs0) {
      const rest = local.slice(5);
      return `SRS1=${this.hash(host, rest)}=${host}==${rest}@${this.domain}`;
    }
    const srs1 = SRS1.exec(local);
    if (srs1) {
      const [, , firstHop, rest] = srs1;
      return `SRS1=${this.hash(firstHop, rest)}=${firstHop}==${rest}@${this.domain}`;
    }
    const stamp = this.timestamp();
    return `SRS0=${this.hash(stamp, host, local)}=${stamp}=${host}=${local}@${this.domain}`;
  }

  /** The address an SRS address of ours stands for, once its hash (and for SRS0 its age) is checked. */
  reverse(address: string): SrsReverse {
    if (!this.isSrsAddress(address)) return { ok: false, error: 'not-srs' };
    const local = address.slice(0, address.lastIndexOf('@'));
    const srs0 = SRS0.exec(local);
    if (srs0) {
      const [, hash, stamp, host, user] = srs0;
      if (!this.hashMatches(hash, stamp, host, user)) return { ok: false, error: 'forged' };
      const age = this.ageInDays(stamp);
      if (age === null) return { ok: false, error: 'malformed' };
      if (age > this.maxAgeDays) return { ok: false, error: 'expired' };
      return { ok: true, address: `${user}@${host}` };
    }
    const srs1 = SRS1.exec(local);
    if (srs1) {
      const [, hash, firstHop, rest] = srs1;
      if (!this.hashMatches(hash, firstHop, rest)) return { ok: false, error: 'forged' };
      return { ok: true, address: `SRS0=${rest}@${firstHop}` };
    }
    return { ok: false, error: 'malformed' };
  }

  private timestamp(): string {
    const day = Math.floor(this.now() / DAY_MS) % TIMESTAMP_CYCLE;
    return BASE32[day >> 5] + BASE32[day & 31];
  }

  /** Days since `stamp` was made (modulo the cycle), or null when it is no timestamp. */
  private ageInDays(stamp: string): number | null {
    const hi = BASE32.indexOf(stamp[0].toUpperCase());
    const lo = BASE32.indexOf(stamp[1].toUpperCase());
    if (hi < 0 || lo < 0) return null;
    const today = Math.floor(this.now() / DAY_MS) % TIMESTAMP_CYCLE;
    return (today - ((hi << 5) | lo) + TIMESTAMP_CYCLE) % TIMESTAMP_CYCLE;
  }

  private hash(...fields: string[]): string {
    const hmac = createHmac('sha1', this.options.secret);
    for (const field of fields) hmac.update(field.toLowerCase());
    return hmac.digest('base64').slice(0, HASH_LENGTH);
  }

  private hashMatches(given: string, ...fields: string[]): boolean {
    const expected = Buffer.from(this.hash(...fields).toLowerCase());
    const actual = Buffer.from(given.toLowerCase());
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

/**
 * SRS from the configuration: SRS_SECRET (none: null, forwarding keeps the sender) and SRS_DOMAIN
 * (default: MTA_HOSTNAME's domain, `defaultSrsDomain`).
 */
export function srsFromConfig(config: {
  SRS_SECRET?: string;
  SRS_DOMAIN?: string;
  MTA_HOSTNAME: string;
}): Srs | null {
  if (!config.SRS_SECRET) return null;
  return new Srs({
    secret: config.SRS_SECRET,
    domain: config.SRS_DOMAIN ?? defaultSrsDomain(config.MTA_HOSTNAME),
  });
}

/** SRS_DOMAIN's default: the host name without its first label, unless that leaves one label. */
export function defaultSrsDomain(hostname: string): string {
  const labels = hostname.toLowerCase().split('.');
  return labels.length > 2 ? labels.slice(1).join('.') : labels.join('.');
}
