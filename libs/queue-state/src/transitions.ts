/**
 * Every allowed move of a message and of a recipient between states: ONE table, which the
 * statements of this library take their guards (`from`) and targets (`to`) from, and which the
 * READMEs show (`renderTransitions`, kept in step by transitions.spec.ts). A move that is not in
 * here does not happen: the statements are the only writers of `messages.state` and
 * `recipients.status`.
 *
 * Postfix's split is the model: `postsuper` (our admin API) changes a queue file's state, and
 * only `qmgr` (our queue manager) plans deliveries.
 */
import { EventType, MessageState, RecipientStatus } from './vocabulary';

/** Who makes a move. */
export type Actor =
  | 'intake'
  | 'router'
  | 'dispatcher'
  | 'outcome applier'
  | 'DSN writer'
  | 'report writer'
  | 'settler'
  | 'admin API';

export interface Transition<S extends string> {
  /** The states the row may be in; empty: the row is created by this move. */
  readonly from: readonly S[];
  /** The state it is in afterwards; null: the row is deleted. */
  readonly to: S | null;
  readonly by: readonly Actor[];
  /** The event row written (null: none; the log line and the metric only). */
  readonly event: EventType | null;
  /** When it happens, in words. */
  readonly when: string;
}

const { received, queued, held, done } = MessageState;
const { deferred, delivered, failed, bounced } = RecipientStatus;
const rq = RecipientStatus.queued;
const rheld = RecipientStatus.held;

/** A message's moves. */
export const MESSAGE = {
  accept: {
    from: [],
    to: received,
    by: ['intake', 'DSN writer', 'report writer'],
    event: EventType.accepted,
    when: 'stored in one commit before the 250 (or written by us: a DSN, a TLS report)',
  },
  route: {
    from: [received],
    to: queued,
    by: ['router'],
    event: EventType.routed,
    when: 'its recipients are routed and their delivery jobs planned',
  },
  hold: {
    from: [received, queued],
    to: held,
    by: ['admin API'],
    event: EventType.held,
    when: 'an operator holds it (it has recipients waiting)',
  },
  releaseUnrouted: {
    from: [held],
    to: received,
    by: ['admin API'],
    event: EventType.released,
    when: 'released before it was ever routed: the router takes it',
  },
  release: {
    from: [held],
    to: queued,
    by: ['admin API'],
    event: EventType.released,
    when: 'released after routing: its held recipients are due now',
  },
  releaseFinished: {
    from: [held],
    to: done,
    by: ['admin API'],
    event: EventType.released,
    when: 'released with no recipient left open',
  },
  cancel: {
    from: [received, queued, held],
    to: queued,
    by: ['admin API'],
    event: null,
    when: 'deleted with bounce: its open recipients fail (see recipient `cancel`), the DSN follows',
  },
  finish: {
    from: [queued],
    to: done,
    by: ['outcome applier', 'settler'],
    event: null,
    when: 'every recipient is final (delivered, bounced, or failed with no DSN due)',
  },
  delete: {
    from: [received, queued, held, done],
    to: null,
    by: ['admin API'],
    event: EventType.deleted,
    when: 'deleted without bounce (its events stay, with the queue id)',
  },
} as const satisfies Record<string, Transition<MessageState>>;

/** A recipient's moves. */
export const RECIPIENT = {
  accept: {
    from: [],
    to: rq,
    by: ['intake', 'DSN writer', 'report writer'],
    event: null,
    when: 'stored with its message, due at once (the message has the `accepted` event)',
  },
  deliver: {
    from: [rq, deferred, rheld],
    to: delivered,
    by: ['outcome applier'],
    event: EventType.delivered,
    when: '2xx from the next hop or the mailbox',
  },
  defer: {
    from: [rq, deferred],
    to: deferred,
    by: ['outcome applier'],
    event: EventType.deferred,
    when: '4xx or no answer before the expiry: next attempt per the retry schedule',
  },
  deferHeld: {
    from: [rheld],
    to: rheld,
    by: ['outcome applier'],
    event: EventType.deferred,
    when: 'a delivery that ran while it was held was deferred: it stays held',
  },
  fail: {
    from: [rq, deferred, rheld],
    to: failed,
    by: ['outcome applier'],
    event: EventType.failed,
    when: '5xx (a hard bounce may also add the address to the suppressions)',
  },
  expire: {
    from: [rq, deferred, rheld],
    to: failed,
    by: ['outcome applier', 'dispatcher'],
    event: EventType.expired,
    when: '4xx or no answer at the expiry, or due after it (4.4.7)',
  },
  suppress: {
    from: [rq, deferred],
    to: failed,
    by: ['dispatcher'],
    event: EventType.failed,
    when: 'its address is on the suppression list (550 5.7.1, no attempt)',
  },
  retry: {
    from: [rq, deferred],
    to: rq,
    by: ['admin API'],
    event: null,
    when: 'an operator retries the message: due now',
  },
  hold: {
    from: [rq, deferred],
    to: rheld,
    by: ['admin API'],
    event: null,
    when: 'its message is held (the message has the `held` event)',
  },
  release: {
    from: [rheld],
    to: rq,
    by: ['admin API'],
    event: null,
    when: 'its message is released: due now (the message has the `released` event)',
  },
  cancel: {
    from: [rq, deferred, rheld],
    to: failed,
    by: ['admin API'],
    event: EventType.failed,
    when: 'its message is deleted with bounce (5.0.0)',
  },
  bounce: {
    from: [failed],
    to: bounced,
    by: ['DSN writer'],
    event: EventType.bounced,
    when: 'the failure DSN is written, in the same commit',
  },
} as const satisfies Record<string, Transition<RecipientStatus>>;

export type MessageMove = keyof typeof MESSAGE;
export type RecipientMove = keyof typeof RECIPIENT;

/** Does this move start from `state`? */
export function allows<S extends string>(move: Transition<S>, state: S): boolean {
  return move.from.includes(state);
}

/** Does the table allow a recipient to go from `from` to `to`? */
export function recipientMoveAllowed(from: RecipientStatus, to: RecipientStatus): boolean {
  return Object.values(RECIPIENT).some(
    (t: Transition<RecipientStatus>) => t.to === to && t.from.includes(from),
  );
}

/** Does the table allow a message to go from `from` to `to`? */
export function messageMoveAllowed(from: MessageState, to: MessageState): boolean {
  return Object.values(MESSAGE).some((t: Transition<MessageState>) => t.to === to && t.from.includes(from));
}

/** The two tables as Markdown, as the READMEs show them. */
export function renderTransitions(): string {
  const table = <S extends string>(title: string, rows: Record<string, Transition<S>>) => {
    const lines = [
      `| ${title} | from | to | by | event | when |`,
      '| --- | --- | --- | --- | --- | --- |',
      ...Object.entries(rows)
        .map(([name, t]) =>
          [
            `\`${name}\``,
            t.from.length ? t.from.map((s) => `\`${s}\``).join(', ') : '(new)',
            t.to === null ? '(deleted)' : `\`${t.to}\``,
            t.by.join(', '),
            t.event ? `\`${t.event}\`` : '—',
            t.when,
          ].join(' | '),
        )
        .map((row) => `| ${row} |`),
    ];
    return lines.join('\n');
  };
  return `${table('message', MESSAGE)}\n\n${table('recipient', RECIPIENT)}`;
}
