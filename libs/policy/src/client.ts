/**
 * How the SMTP services ask the policy service: a `policy` job per question, answered on a
 * Redis pub/sub channel of the asking process, with a deadline (POLICY_TIMEOUT_MS).
 *
 * Why pub/sub and not BullMQ's `waitUntilFinished`: the worker publishes the answer before its
 * job completes, and the one subscriber connection of a process takes every answer for it.
 * QueueEvents instead reads the queue's event stream (every completion of every process)
 * and costs an extra check per job; bench/policy measures both (bench/README.md).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { QueueName, type JobProducer } from '@mta/queue';
import type { PolicyAnswer } from './answers';
import type { PolicyQuestion } from './checks';

/** Asks one question; null when no answer came within the deadline (or Redis is down). */
export interface PolicyAsker {
  ask(question: PolicyQuestion): Promise<PolicyAnswer | null>;
}

const Answer = z.object({
  refusal: z
    .object({
      code: z.number().int().min(400).max(599),
      enhanced: z.string().max(16),
      text: z.string().max(1000),
    })
    .nullable(),
  allowListed: z.boolean().optional(),
});

/** The channel the answers for process `replyTo` are published on. */
export const answerChannel = (prefix: string, replyTo: string): string =>
  `${prefix}:policy:answers:${replyTo}`;

/** `<job id> <answer JSON>`, as published by the worker. */
export const encodeAnswer = (jobId: string, answer: PolicyAnswer): string =>
  `${jobId} ${JSON.stringify(answer)}`;

interface Pending {
  resolve(answer: PolicyAnswer | null): void;
  timer: NodeJS.Timeout;
}

export class PolicyClient implements PolicyAsker {
  /** This process's name in `replyTo`: letters and digits, unique across replicas. */
  readonly id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
  private readonly pending = new Map<string, Pending>();
  private sequence = 0;
  private subscribed: Promise<unknown> | null = null;

  constructor(
    private readonly producer: JobProducer,
    /** A connection of its own, put in subscriber mode (ioredis subscribes again after a reconnect). */
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {
    subscriber.on('message', (_channel: string, message: string) => this.received(message));
  }

  /** Subscribes to this process's answer channel; call once before asking. */
  start(): Promise<unknown> {
    this.subscribed ??= this.subscriber.subscribe(answerChannel(this.prefix, this.id));
    return this.subscribed;
  }

  async ask(question: PolicyQuestion): Promise<PolicyAnswer | null> {
    const jobId = `policy-${this.id}-${(this.sequence++).toString(36)}`;
    const answer = new Promise<PolicyAnswer | null>((resolve) => {
      const timer = setTimeout(() => this.settle(jobId, null), this.timeoutMs);
      this.pending.set(jobId, { resolve, timer });
    });
    try {
      await this.producer.enqueue(
        QueueName.Policy,
        { ...question, replyTo: this.id },
        // Answers are published, not read from the job: nothing to keep once it is done.
        { jobId, removeOnComplete: true, removeOnFail: { age: 3600, count: 1000 } },
      );
    } catch {
      this.settle(jobId, null); // Redis down: no answer, the caller says 451 4.7.0
    }
    return answer;
  }

  /** Questions still waiting (for tests and shutdown). */
  get waiting(): number {
    return this.pending.size;
  }

  close(): void {
    for (const jobId of [...this.pending.keys()]) this.settle(jobId, null);
    this.subscriber.disconnect();
  }

  private received(message: string): void {
    const space = message.indexOf(' ');
    if (space < 0) return;
    let answer: PolicyAnswer;
    try {
      answer = Answer.parse(JSON.parse(message.slice(space + 1)));
    } catch {
      return; // not an answer we understand: the question times out
    }
    this.settle(message.slice(0, space), answer);
  }

  private settle(jobId: string, answer: PolicyAnswer | null): void {
    const pending = this.pending.get(jobId);
    if (!pending) return;
    this.pending.delete(jobId);
    clearTimeout(pending.timer);
    pending.resolve(answer);
  }
}
