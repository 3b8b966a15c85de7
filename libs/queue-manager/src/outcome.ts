/**
 * What a delivery attempt's results mean for each recipient: a pure function of the results, the
 * recipients as they were read, the retry schedule and the message's age (RFC 5321 §4.2.1 reply
 * classes; RFC 3463 enhanced status codes). The outcome applier records what it decides
 * (@mta/queue-state `recordResults`); outcome.spec.ts is its table, one row per case.
 *
 * - 2xx (`delivered`): move `deliver`.
 * - 4xx or no answer (`deferred`): move `defer` with the next attempt per the schedule, shared by
 *   every recipient the attempt deferred (one job for them); `deferHeld` for a held recipient (it
 *   keeps its hold, and its next attempt for the release); move `expire` once the message is past
 *   its expiry (RFC 5321 §4.5.4.1; 4.4.7).
 * - 5xx (`failed`): move `fail`, with `suppress` when it is a hard bounce (`isHardBounce`) and
 *   the operator's `suppressHardBounces` setting is on.
 * - A result for a recipient that no longer waits for this attempt (final, or already past it:
 *   a replayed or late outcome): `stale`, nothing is recorded.
 */
import type { Recipient } from '@mta/db';
import type { JobData, QueueName } from '@mta/queue';
import { RECIPIENT, RecipientStatus, allows, type ResultMove } from '@mta/queue-state';
import { nextAttempt, type RetrySchedule } from './schedule';

type Result = JobData<QueueName.Outcome>['results'][number];

export type Decision =
  | { readonly move: 'stale' }
  | { readonly move: 'deliver' }
  | { readonly move: 'defer' | 'deferHeld'; readonly nextAttemptAt: Date }
  | { readonly move: 'fail'; readonly suppress: boolean }
  | { readonly move: 'expire' };

export interface OutcomeFacts {
  /** The attempt the results are of (the job's). */
  readonly attempt: number;
  readonly results: readonly Pick<Result, 'recipientId' | 'kind' | 'code' | 'enhanced'>[];
  /** The recipients as read before the results are recorded. */
  readonly recipients: ReadonlyMap<string, Pick<Recipient, 'status' | 'attempts'>>;
  readonly schedule: RetrySchedule;
  /** When the message was received: its age decides the expiry. */
  readonly receivedAt: Date;
  readonly now: Date;
  /** The jitter's randomness (Math.random in production). */
  readonly random: () => number;
  /** The operator's setting (`PATCH /api/v1/settings`). */
  readonly suppressHardBounces: boolean;
}

/**
 * RFC 3463 codes that say the address itself is bad, for good: X.1.1 bad destination mailbox
 * address (§3.2: the mailbox does not exist), X.1.2 bad destination system address (the domain
 * does not exist or cannot take mail), X.1.3 bad destination mailbox address syntax, X.1.6
 * destination mailbox has moved, no forwarding address, and X.1.10 recipient address has null MX
 * (RFC 7505 §4.2). Not X.2.1 "mailbox disabled" (§3.3: may be temporary), X.2.2 "mailbox full",
 * X.7.x (policy: about this message or this sender, not the address), nor a 5xx without an
 * enhanced code (it could be any of these).
 */
const HARD_BOUNCE_DETAILS = new Set(['1.1', '1.2', '1.3', '1.6', '1.10']);

/** A permanent failure that means the address does not exist (see HARD_BOUNCE_DETAILS). */
export function isHardBounce(code: number, enhanced: string | undefined | null): boolean {
  if (code < 500 || code > 599 || !enhanced) return false;
  const [cls, ...rest] = enhanced.split('.');
  return cls === '5' && HARD_BOUNCE_DETAILS.has(rest.map(Number).join('.'));
}

/** The decision for each result, in order; `nextAttemptAt` of the deferred ones, null if expired. */
export function decideOutcome(facts: OutcomeFacts): { decisions: Decision[]; nextAttemptAt: Date | null } {
  const next = nextAttempt(facts.schedule, facts.receivedAt, facts.attempt, facts.now, facts.random);
  const seen = new Set<string>();
  const decisions = facts.results.map((result): Decision => {
    const r = facts.recipients.get(result.recipientId);
    if (!r || seen.has(result.recipientId) || !waitsFor(r, facts.attempt)) return { move: 'stale' };
    seen.add(result.recipientId);
    if (result.kind === 'delivered') return { move: 'deliver' };
    if (result.kind === 'failed')
      return {
        move: 'fail',
        suppress: facts.suppressHardBounces && isHardBounce(result.code, result.enhanced),
      };
    if (next === null) return { move: 'expire' };
    return { move: r.status === RecipientStatus.held ? 'deferHeld' : 'defer', nextAttemptAt: next };
  });
  return { decisions, nextAttemptAt: next };
}

/** Whether a recipient still waits for the results of `attempt` (any move of a result starts here). */
function waitsFor(r: Pick<Recipient, 'status' | 'attempts'>, attempt: number): boolean {
  return allows(RECIPIENT.deliver, r.status) && r.attempts < attempt;
}

/** The move a decision records (null: none). */
export function moveOf(d: Decision): ResultMove | null {
  return d.move === 'stale' ? null : d.move;
}
