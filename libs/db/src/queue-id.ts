import { randomBytes } from 'node:crypto';

/** Crockford base 32: no I, L, O, U; case-insensitive to read aloud. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The last id's millisecond and random part, for ids made within one millisecond. */
let last = { time: -1, random: 0 };
const RANDOM_SPACE = 2 ** 30;

/**
 * A new queue id, like Postfix's long queue ids: 16 characters of Crockford base 32, the first
 * 10 the time in milliseconds (so ids sort by arrival), the last 6 random (30 bits), e.g.
 * `01JDG7ZQ4M8K3XWA`. Shown in `250 2.0.0 Ok: queued as <id>`, in Received headers and logs.
 *
 * Within one millisecond, a process takes the next number after its previous id's random part
 * instead of drawing again (ULID's monotonic rule). A process then never repeats an id, however
 * many it makes in one millisecond (the group commit of a burst makes hundreds). Independent
 * draws collided: the birthday bound of 30 bits is reached at a few tens of thousands of ids in
 * one millisecond, and a bulk insert of 1,000 failed on the unique key in CI.
 */
export function newQueueId(now: number = Date.now()): string {
  let time = '';
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  const random =
    now === last.time ? (last.random + 1) % RANDOM_SPACE : randomBytes(4).readUInt32BE(0) % RANDOM_SPACE;
  last = { time: now, random };
  let rand = '';
  for (let r = random, i = 0; i < 6; i++, r = Math.floor(r / 32)) rand += ALPHABET[r % 32];
  return time + rand;
}

export const QUEUE_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{16}$/;
