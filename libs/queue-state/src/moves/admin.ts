/**
 * The operator's moves (transitions.ts), as `postsuper` makes them: each checks that the table
 * allows it from the state the message is in, changes the state in PostgreSQL with an event
 * row, and says which recipients it changed. Planning and enqueueing the delivery jobs that
 * follow is the queue manager's (libs/queue-manager `QueueDispatch`), never the caller's.
 *
 * Contract for the queue manager and the delivery workers:
 * - `held` (message state and recipient status) means never delivered, not even by a job that
 *   was already on the queue; only release (or delete) ends it. The retry schedule and the
 *   expiry clock keep running.
 * - `nextAttemptAt = now` (retry, release, resume) means due now: deliver at the next chance.
 * - Recipients `failed` by a delete with bounce get a DSN like any other failure.
 */
import type { PrismaClient, RecipientRoute, RecipientStatus } from '@mta/db';
import { MESSAGE, RECIPIENT, allows, type Transition } from '../transitions';
import { MessageState, WAITING, isOpen } from '../vocabulary';

type Db = Pick<PrismaClient, '$transaction' | 'recipient' | 'message' | 'event'>;

/** What an operator's move needs to know of a message. */
export interface AdminMessage {
  readonly id: string;
  readonly queueId: string;
  readonly state: MessageState;
  readonly recipients: readonly AdminRecipient[];
}

export interface AdminRecipient {
  readonly id: string;
  readonly domain: string;
  readonly route: RecipientRoute | null;
  readonly attempts: number;
  readonly status: RecipientStatus;
}

/** The fields of AdminRecipient, as a Prisma `select`. */
export const ADMIN_RECIPIENT = { id: true, domain: true, route: true, attempts: true, status: true } as const;

export type MoveResult =
  | { readonly ok: true; readonly changed: readonly AdminRecipient[]; readonly state: MessageState }
  /** The table does not allow it from here: what to tell the operator (HTTP 409). */
  | { readonly ok: false; readonly reason: string };

const refuse = (reason: string): MoveResult => ({ ok: false, reason });
const inStates = <S extends string>(t: Transition<S>) => [...t.from];

/** Move `retry`: the waiting recipients are due now. */
export async function retryMessage(db: Db, m: AdminMessage, now: Date): Promise<MoveResult> {
  if (m.state === MESSAGE.hold.to) return refuse(`message ${m.queueId} is held: release it instead`);
  const due = m.recipients.filter((r) => allows(RECIPIENT.retry, r.status));
  if (due.length === 0) return refuse(`message ${m.queueId} has no recipient waiting for delivery`);
  await db.recipient.updateMany({
    where: { id: { in: due.map((r) => r.id) }, status: { in: inStates(RECIPIENT.retry) } },
    data: { status: RECIPIENT.retry.to, nextAttemptAt: now },
  });
  return { ok: true, changed: due, state: m.state };
}

/** Move `hold` of the message and of its waiting recipients. */
export async function holdMessage(db: Db, m: AdminMessage, actor: string): Promise<MoveResult> {
  if (m.state === MESSAGE.hold.to) return refuse(`message ${m.queueId} is already held`);
  if (!allows(MESSAGE.hold, m.state))
    return refuse(`message ${m.queueId} is ${m.state}: nothing left to hold`);
  const pending = m.recipients.filter((r) => allows(RECIPIENT.hold, r.status));
  if (pending.length === 0)
    return refuse(`message ${m.queueId} has no recipient waiting for delivery to hold`);
  await db.$transaction([
    db.recipient.updateMany({
      where: { id: { in: pending.map((r) => r.id) }, status: { in: inStates(RECIPIENT.hold) } },
      data: { status: RECIPIENT.hold.to },
    }),
    db.message.updateMany({
      where: { id: m.id, state: { in: inStates(MESSAGE.hold) } },
      data: { state: MESSAGE.hold.to },
    }),
    db.event.create({
      data: event(m, MESSAGE.hold.event, { by: actor, recipients: pending.length }),
    }),
  ]);
  return { ok: true, changed: pending, state: MESSAGE.hold.to };
}

/**
 * Move `release` (or `releaseUnrouted`, `releaseFinished`) of the message, and `release` of its
 * held recipients: due now.
 */
export async function releaseMessage(db: Db, m: AdminMessage, actor: string, now: Date): Promise<MoveResult> {
  if (!allows(MESSAGE.release, m.state)) return refuse(`message ${m.queueId} is not held`);
  const held = m.recipients.filter((r) => allows(RECIPIENT.release, r.status));
  const routed = m.recipients.some((r) => r.route !== null);
  const open = m.recipients.some((r) => isOpen(r.status));
  const move = !open ? MESSAGE.releaseFinished : routed ? MESSAGE.release : MESSAGE.releaseUnrouted;
  await db.$transaction([
    db.recipient.updateMany({
      where: { id: { in: held.map((r) => r.id) }, status: { in: inStates(RECIPIENT.release) } },
      data: { status: RECIPIENT.release.to, nextAttemptAt: now },
    }),
    db.message.updateMany({
      where: { id: m.id, state: { in: inStates(move) } },
      data: { state: move.to },
    }),
    db.event.create({ data: event(m, move.event, { by: actor, recipients: held.length }) }),
  ]);
  return { ok: true, changed: held, state: move.to };
}

/** What a delete with bounce tells the sender. */
export const CANCELLED = { enhanced: '5.0.0', text: 'message deleted by the postmaster' } as const;

/**
 * Move `cancel` (delete with bounce): every open recipient fails (5.0.0), so the queue manager
 * bounces them to the sender; the message stays until that is done.
 */
export async function cancelMessage(db: Db, m: AdminMessage, actor: string): Promise<MoveResult> {
  const open = m.recipients.filter((r) => allows(RECIPIENT.cancel, r.status));
  if (open.length === 0 || !allows(MESSAGE.cancel, m.state))
    return refuse(`message ${m.queueId} has no undelivered recipient to bounce`);
  const reason = CANCELLED.text;
  await db.$transaction([
    db.recipient.updateMany({
      where: { id: { in: open.map((r) => r.id) }, status: { in: inStates(RECIPIENT.cancel) } },
      data: {
        status: RECIPIENT.cancel.to,
        nextAttemptAt: null,
        lastReplyCode: null,
        lastEnhancedCode: CANCELLED.enhanced,
        lastReplyText: reason,
      },
    }),
    db.message.updateMany({
      where: { id: m.id, state: { in: inStates(MESSAGE.cancel) } },
      data: { state: MESSAGE.cancel.to },
    }),
    db.event.createMany({
      data: open.map((r) => event(m, RECIPIENT.cancel.event, { by: actor, reason }, r.id)),
    }),
  ]);
  return { ok: true, changed: open, state: MESSAGE.cancel.to };
}

/** Move `delete`: the message and all about it but its events (which keep its queue id). */
export async function deleteMessage(db: Db, m: AdminMessage, actor: string): Promise<MoveResult> {
  const open = m.recipients.filter((r) => isOpen(r.status));
  await db.$transaction([
    db.event.create({ data: event(m, MESSAGE.delete.event, { by: actor, recipients: open.length }) }),
    db.message.delete({ where: { id: m.id } }),
  ]);
  return { ok: true, changed: open, state: m.state };
}

/**
 * A destination's pause ended: its waiting recipients that the pause held back (the dispatcher
 * put them off by at most `withinMs`) are due now. Returns them by message.
 */
export async function bringForward(
  db: Pick<PrismaClient, 'recipient'>,
  domain: string,
  now: Date,
  withinMs: number,
  limit: number,
): Promise<Map<string, string[]>> {
  const rows = await db.recipient.findMany({
    where: {
      domain,
      status: { in: [...WAITING] },
      route: { not: null },
      OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: new Date(now.getTime() + withinMs) } }],
      message: { state: { in: [MessageState.received, MessageState.queued] } },
    },
    select: { id: true, messageId: true },
    orderBy: { createdAt: 'asc' },
    take: limit,
  });
  if (rows.length === 0) return new Map();
  await db.recipient.updateMany({
    where: { id: { in: rows.map((r) => r.id) }, status: { in: [...WAITING] } },
    data: { nextAttemptAt: now },
  });
  const byMessage = new Map<string, string[]>();
  for (const r of rows) byMessage.set(r.messageId, [...(byMessage.get(r.messageId) ?? []), r.id]);
  return byMessage;
}

function event(
  m: Pick<AdminMessage, 'id' | 'queueId'>,
  type: NonNullable<Transition<string>['event']>,
  detail: Record<string, string | number>,
  recipientId?: string,
) {
  return { type, messageId: m.id, queueId: m.queueId, recipientId, detail } as const;
}
