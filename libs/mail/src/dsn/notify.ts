/**
 * When to send a DSN at all.
 *
 * RFC 3461 §4.1 (NOTIFY): NEVER means no DSN whatever happens; otherwise a list of SUCCESS, FAILURE,
 * DELAY. Without NOTIFY the MTA behaves as if NOTIFY=FAILURE or NOTIFY=FAILURE,DELAY had been given
 * (its choice; ours is FAILURE,DELAY unless the caller says otherwise: when to warn about a delay
 * is the queue's schedule). SUCCESS is never the default.
 * RFC 3464 §2.3.3: the actions `delivered`, `relayed` and `expanded` answer NOTIFY=SUCCESS;
 * `failed` answers FAILURE and `delayed` answers DELAY.
 * RFC 5321 §4.5.5 and §6.1, RFC 3461 §6.1: a DSN goes to the reverse-path of the message with a
 * null reverse-path of its own, and a message whose reverse-path is null (`<>`: itself a DSN or
 * another notification) never gets one: that is how bounce loops are avoided.
 */
import type { NotifyCondition } from '@mta/smtp-protocol';

/** RFC 3464 §2.3.3. */
export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface NotifyDefaults {
  /** Whether, without NOTIFY, a delay is reported too (RFC 3461 §4.1 leaves it to us). Default true. */
  readonly delayWhenAbsent?: boolean;
}

const CONDITION: Record<DsnAction, NotifyCondition> = {
  failed: 'FAILURE',
  delayed: 'DELAY',
  delivered: 'SUCCESS',
  relayed: 'SUCCESS',
  expanded: 'SUCCESS',
};

/** Should a recipient with this NOTIFY (undefined: not given) be reported for this action? */
export function shouldNotify(
  notify: readonly NotifyCondition[] | undefined,
  action: DsnAction,
  defaults: NotifyDefaults = {},
): boolean {
  if (notify === undefined || notify.length === 0) {
    return action === 'failed' || (action === 'delayed' && (defaults.delayWhenAbsent ?? true));
  }
  if (notify.includes('NEVER')) return false;
  return notify.includes(CONDITION[action]);
}

/**
 * The guard before composing any DSN: false for the null reverse-path. Accepts what the code has
 * at hand: `null`, `''`, `'<>'`, or an address with or without angle brackets.
 */
export function canSendDsn(sender: string | null | undefined): sender is string {
  if (sender === null || sender === undefined) return false;
  const s = sender.trim();
  return s !== '' && s !== '<>';
}
