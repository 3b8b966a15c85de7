import { randomBytes } from 'node:crypto';

/** Crockford base 32: no I, L, O, U; case-insensitive to read aloud. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A new queue id, like Postfix's long queue ids: 16 characters of Crockford base 32, the first
 * 10 the time in milliseconds (so ids sort by arrival), the last 6 random (30 bits), e.g.
 * `01JDG7ZQ4M8K3XWA`. Shown in `250 2.0.0 Ok: queued as <id>`, in Received headers and logs.
 */
export function newQueueId(now: number = Date.now()): string {
  let time = '';
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  const bytes = randomBytes(4).readUInt32BE(0);
  let rand = '';
  for (let r = bytes, i = 0; i < 6; i++, r = Math.floor(r / 32)) rand += ALPHABET[r % 32];
  return time + rand;
}

export const QUEUE_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{16}$/;
