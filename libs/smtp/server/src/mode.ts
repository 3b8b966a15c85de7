/** What the connection does with the next bytes it reads. */
export const Mode = {
  /** Before the greeting: any input is early talk (554 5.5.1). */
  Greeting: 0,
  /** Command lines (RFC 5321 §4.1). */
  Command: 1,
  /** AUTH exchange lines (RFC 4954 §4). */
  Sasl: 2,
  /** DATA or BDAT message octets. */
  Body: 3,
  /** Octets of a refused BDAT chunk, read and dropped (RFC 3030 §2). */
  Skip: 4,
  /** TLS handshake after STARTTLS: the bytes belong to TLS. */
  Tls: 5,
  Closed: 6,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];
