/**
 * Client timeouts, in milliseconds.
 *
 * RFC 5321 §4.5.3.2 gives the per-command minimums a client should wait for a reply;
 * the ones it does not cover (connect, STARTTLS, AUTH, RSET, QUIT) follow Postfix's
 * smtp(8) defaults (smtp_connect_timeout 30s, smtp_starttls_timeout 300s,
 * smtp_rset_timeout 20s, smtp_quit_timeout 300s — ours is shorter: QUIT is courtesy).
 */
export interface Timeouts {
  /** TCP connection establishment. */
  readonly connect: number;
  /** §4.5.3.2.1 Initial 220 Message: 5 minutes. */
  readonly greeting: number;
  /** EHLO/HELO reply (not in §4.5.3.2; treated like MAIL). */
  readonly helo: number;
  /** STARTTLS reply and TLS handshake. */
  readonly starttls: number;
  /** Each AUTH step. */
  readonly auth: number;
  /** §4.5.3.2.2 MAIL Command: 5 minutes. */
  readonly mail: number;
  /** §4.5.3.2.3 RCPT Command: 5 minutes. */
  readonly rcpt: number;
  /** §4.5.3.2.4 DATA Initiation (the 354): 2 minutes. */
  readonly dataInit: number;
  /** §4.5.3.2.5 Data Block: 3 minutes for each write to complete (also each BDAT reply). */
  readonly dataBlock: number;
  /** §4.5.3.2.6 DATA Termination (reply to `.` or BDAT LAST): 10 minutes. */
  readonly endOfData: number;
  /** RSET reply. */
  readonly rset: number;
  /** QUIT reply, after which we close regardless. */
  readonly quit: number;
}

const MINUTE = 60_000;

export const DEFAULT_TIMEOUTS: Timeouts = Object.freeze({
  connect: 30_000,
  greeting: 5 * MINUTE,
  helo: 5 * MINUTE,
  starttls: 5 * MINUTE,
  auth: 5 * MINUTE,
  mail: 5 * MINUTE,
  rcpt: 5 * MINUTE,
  dataInit: 2 * MINUTE,
  dataBlock: 3 * MINUTE,
  endOfData: 10 * MINUTE,
  rset: 20_000,
  quit: 10_000,
});

export function resolveTimeouts(overrides: Partial<Timeouts> | undefined): Timeouts {
  return { ...DEFAULT_TIMEOUTS, ...overrides };
}
