/**
 * The policy service's side of the `policy` queue: a BullMQ worker that answers each question
 * with the checks and publishes the answer on the asker's channel.
 */
import type { Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import { QueueName, createJobWorker } from '@mta/queue';
import { ACCEPT, type PolicyAnswer } from './answers';
import { answerQuestion, type CheckDependencies } from './checks';
import { answerChannel, encodeAnswer } from './client';
import type { PolicySettings } from './settings';

export interface PolicyWorkerOptions {
  /** A blocking connection for the worker (createRedisConnection(url, 'worker')). */
  connection: Redis;
  /** A normal connection to publish answers on. */
  publisher: Redis;
  prefix: string;
  settings: PolicySettings;
  checks: CheckDependencies;
  /** POLICY_TIMEOUT_MS: a question older than this has been given up by its asker. */
  timeoutMs: number;
  /** Questions answered at once (DNS lookups wait on the network). Default 64. */
  concurrency?: number;
  onError?: (error: Error) => void;
}

export function startPolicyWorker(options: PolicyWorkerOptions): Worker {
  const { publisher, prefix, settings, checks } = options;
  const worker = createJobWorker(
    QueueName.Policy,
    async (question, job): Promise<PolicyAnswer> => {
      // The asker answered 451 4.7.0 already (e.g. the service was down and is catching up):
      // counting it in a rate limit or a greylist now would count what the client never did.
      if (Date.now() - job.timestamp > options.timeoutMs) return ACCEPT;
      const answer = await answerQuestion(question, settings, checks);
      if (question.replyTo && job.id)
        await publisher.publish(answerChannel(prefix, question.replyTo), encodeAnswer(job.id, answer));
      return answer;
    },
    { connection: options.connection, prefix, concurrency: options.concurrency ?? 64 },
  );
  worker.on('error', (error) => options.onError?.(error));
  return worker;
}
