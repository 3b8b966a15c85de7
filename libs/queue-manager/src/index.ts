/**
 * @mta/queue-manager — the queue manager (Postfix's qmgr): routes accepted messages to delivery
 * jobs, applies delivery outcomes, retries with exponential backoff and jitter, expires old mail,
 * writes DSN bounces and delay notices, honours holds, pauses and suppressions, and reconciles
 * PostgreSQL (the truth) against Redis (the fast path). Plain classes; see README.md.
 *
 * The retry algorithm, in short (details in schedule.ts): after the n-th temporary failure a
 * recipient waits min(4 h, 5 min × 2^(n−1)) ± 10 % jitter; recipients of one destination deferred
 * together share one delayed job; a message expires 5 days after it was received (never retried
 * past that; still deferred then → failed 4.4.7 and bounced); a deferred recipient gets one delay
 * notice once the message is 4 hours old. All of it configurable (`QueueManagerOptions.schedule`).
 */
export { QueueManager } from './queue-manager';
export type { QueueManagerDeps, QueueManagerOptions, Context } from './context';
export {
  DEFAULT_SCHEDULE,
  resolveSchedule,
  retryDelay,
  nextAttempt,
  expiresAt,
  delayWarningDue,
  type RetrySchedule,
} from './schedule';
export { scheduleFromConfig } from './schedule-from-config';
export {
  QueueDispatch,
  type DispatchAnswer,
  type QueueDispatchDeps,
  type QueueDispatchOptions,
} from './queue-dispatch';
export { Router, type RouteResult } from './router';
export { OutcomeApplier, type ApplyResult, type OutcomeJobData } from './outcome-applier';
export {
  Dispatcher,
  type DeliveryJobData,
  type DispatchContext,
  type DispatchOptions,
  type DispatchResult,
  type JobPlacer,
} from './dispatcher';
export { decideOutcome, isHardBounce, type Decision, type OutcomeFacts } from './outcome';
export { DsnWriter, parseOrcpt } from './bounces';
export { writeReportMessage, type ReportWriterDeps } from './report-writer';
export { Settler } from './settle';
export { Reconciler, type ReconcileReport } from './reconciler';
export { QueueManagerMetrics, type Transition } from './metrics';
