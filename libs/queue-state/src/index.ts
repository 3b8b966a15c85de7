/**
 * @mta/queue-state — the one owner of a message's life: the status vocabulary (from the Prisma
 * enums), the table of allowed transitions that the code and the docs share, every statement that
 * moves a message or a recipient between states, and the planning and naming of delivery jobs.
 * Intake, the queue manager, delivery and the admin API go through it. See README.md.
 */
export * from './vocabulary';
export * from './transitions';
export * from './jobs';
export { TX } from './tx';
export * from './sql';
export {
  EXPIRED_REASON,
  EXPIRED_STATUS,
  SUPPRESSED_REPLY,
  expireRecipients,
  postponeRecipient,
  suppressRecipients,
  suppressedText,
} from './moves/dispatch';
export { storeDsn, type DsnKind, type StoredDsn } from './moves/dsn';
export { generatedMessageData, storeGeneratedMessage, type GeneratedMessage } from './moves/generated';
export {
  ADMIN_RECIPIENT,
  CANCELLED,
  bringForward,
  cancelMessage,
  deleteMessage,
  holdMessage,
  releaseMessage,
  retryMessage,
  type AdminMessage,
  type AdminRecipient,
  type MoveResult,
} from './moves/admin';
