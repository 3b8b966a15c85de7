/**
 * The hot-path SQL: the statements every message runs, in plain SQL on a pg pool, one folder.
 *
 * Prisma compiles each query before it sends it, which costs several times the query itself,
 * and a message passes through intake, the router, delivery and the outcome applier with some
 * twenty of them; the rarer paths (retries, DSNs, pauses, the reconciler, the admin API) stay on
 * Prisma. Every write here is ONE statement (data-modifying CTEs share one snapshot and commit
 * together), guarded so that a replayed job changes nothing, and takes a batch (the group commits
 * of intake, the router, the applier and the delivery loader): one statement for N messages.
 * Why one of them is named and the others are not: builder.ts.
 */
export { Fragment, Param, join, param, sql, statement, type Statement } from './builder';
export { insertMessages, type NewMessage } from './accept';
export {
  blockKeys,
  blocksColumns,
  loadBlocks,
  loadMessages,
  MESSAGE_REF,
  type BlockKeys,
  type Blocks,
  type LoadedBatch,
  type LoadedMessage,
  type MessageRef,
  type Pool,
} from './load';
export { markRouted, type RoutedStep } from './route';
export { recordResults, type AppliedResult, type RecordedOutcome, type ResultMove } from './results';
export { markDone, markDoneIfAllDelivered, openRecipients } from './finish';
export { loadDeliveryRows, type DeliveryLoadJob, type DeliveryLoadRow } from './delivery';
