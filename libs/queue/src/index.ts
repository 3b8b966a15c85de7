export { QueueName, ALL_QUEUES } from './queue-names';
export {
  AcceptedJob,
  ACCEPTED_MAX_MESSAGES,
  DeliveryJob,
  OutcomeJob,
  PolicyJob,
  WebhookJob,
  RecipientOutcome,
  contracts,
  parseJob,
  jobIdOf,
  stepJobId,
  type StepKey,
  JobContractError,
  type JobData,
} from './contracts';
export { createRedisConnection, pingRedis, redisReady } from './redis-connection';
export { registerQueueMetrics, QUEUE_JOBS_METRIC, QUEUE_JOB_STATES } from './queue-metrics';
export { JobProducer } from './job-producer';
export {
  redisErrorLog,
  LOST_JOB,
  LOST_JOB_TEXT,
  type ErrorLog,
  type RedisErrorLogOptions,
} from './redis-errors';
export { createJobWorker, settlesWithin, type JobHandler } from './job-worker';
export { QueueModule, REDIS_CLIENT, QUEUE_OPTIONS, type QueueModuleOptions } from './queue.module';
