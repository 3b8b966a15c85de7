/**
 * Wraps any delivery agent with the per-destination concurrency limit: take a slot, deliver,
 * give the slot back (the lease renews itself while held: destination-limiter.ts). When no slot is free, it waits a
 * little for one (`waitForSlotMs`, polling with a growing pause), because a slot is usually
 * freed within a delivery's time; if none comes, nothing is tried and the report says
 * `deferred-local` with a short `retryAfterMs`: the worker puts the job back, so a busy
 * destination holds a worker for at most `waitForSlotMs`. Without the wait, workers whose
 * concurrency adds up past the limit of a destination that takes most of the mail bounced
 * their surplus jobs in and out of the queue, more bounces than messages (bench/README.md, "Measurements behind the code").
 *
 * But a process never has more deliveries waiting for one destination than the destination has
 * slots: the others are given back at once. Otherwise a backlog for a destination with a small
 * limit (a slow or fussy receiver allowed 1 or 2 connections) would keep most of the worker's
 * concurrency waiting for it, and mail for every other destination would wait behind it
 * (Postfix's qmgr keeps one queue per destination for the same reason).
 *
 * The lease goes down with the request (`slot`): a session the agent keeps idle afterwards
 * turns it into an idle lease, so open connections, not only deliveries, count against the limit.
 *
 * Nor does one destination take every delivery of the process (`processConcurrency`): see
 * process-share.ts.
 */
import {
  allRecipients,
  type DeliveryAgent,
  type DeliveryReport,
  type DeliveryRequest,
  type ShapingLimit,
} from '../contract';
import type { DestinationLimiter, Lease } from './destination-limiter';
import { ProcessShare } from './process-share';

export interface LimitedAgentOptions {
  readonly limiter: DestinationLimiter;
  /**
   * The limit's key for a request (default: `destination`, else the first recipient's domain;
   * `mx` keying: the MX host set, site.ts).
   */
  readonly destinationOf?: (request: DeliveryRequest) => string | Promise<string>;
  /**
   * When a `deferred-local` job should run again: default 1 s, plus up to as much again of
   * jitter, so jobs that found the destination full spread out instead of returning together.
   * Short, because a slot is usually freed by a delivery that takes well under a second, and
   * several workers whose concurrency adds up past the destination's limit must not leave the
   * surplus jobs idle for long.
   */
  readonly retryAfterMs?: number;
  /** How long to wait for a slot before giving the job back (default 2 s; 0: do not wait). */
  readonly waitForSlotMs?: number;
  readonly random?: () => number;
  /** Deliveries this process runs at once (`DELIVERY_CONCURRENCY`); unset: no share applies. */
  readonly processConcurrency?: number;
}

export function defaultDestination(request: DeliveryRequest): string {
  const address = request.recipients[0]?.address ?? '';
  return (request.destination ?? address.slice(address.lastIndexOf('@') + 1)).toLowerCase();
}

export class ConcurrencyLimitedAgent implements DeliveryAgent {
  /** Deliveries of this process waiting for a slot, per destination. */
  private readonly waiting = new Map<string, number>();
  /** This process's claims per destination (process-share.ts). */
  private readonly share: ProcessShare;

  constructor(
    private readonly inner: DeliveryAgent,
    private readonly options: LimitedAgentOptions,
  ) {
    this.share = new ProcessShare(options.processConcurrency);
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryReport> {
    const destination = await (this.options.destinationOf ?? defaultDestination)(request);
    if (!(await this.share.claim(destination, this.options.waitForSlotMs ?? 2_000))) {
      const text = `${destination} holds its share of this worker's deliveries, will try again shortly`;
      return this.deferLocal(request, text, 'connections');
    }
    try {
      return await this.deliverWithSlot(request, destination);
    } finally {
      this.share.release(destination);
    }
  }

  private async deliverWithSlot(request: DeliveryRequest, destination: string): Promise<DeliveryReport> {
    let lease: Lease | null;
    try {
      lease = await this.options.limiter.acquire(destination);
    } catch (e) {
      const text = `delivery slots for ${destination} unavailable: ${errorText(e)}`;
      return this.deferLocal(request, text, 'unavailable');
    }
    if (!lease && this.mayWait(destination)) lease = await this.waitForSlot(destination, request.signal);
    if (!lease) {
      const text = `too many concurrent deliveries to ${destination}, will try again shortly`;
      return this.deferLocal(request, text, 'connections');
    }
    const held = lease;
    try {
      // A session kept for reuse keeps the slot (destination-limiter.ts): the agent parks it.
      return await this.inner.deliver({ ...request, slot: held });
    } finally {
      await held.release().catch(() => undefined); // it expires by itself otherwise
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Deliveries of this process waiting for a slot of `destination` now. */
  waitingFor(destination: string): number {
    return this.waiting.get(destination) ?? 0;
  }

  /** Fewer deliveries of this process wait for the destination than it has slots. */
  private mayWait(destination: string): boolean {
    const slots = this.options.limiter.limitOf?.(destination) ?? Infinity;
    return (this.waiting.get(destination) ?? 0) < slots;
  }

  /** Polls for a slot (20 ms, doubling to 200 ms) until `waitForSlotMs` or an abort; null if none. */
  private async waitForSlot(destination: string, signal?: AbortSignal): Promise<Lease | null> {
    count(this.waiting, destination, 1);
    try {
      return await this.pollForSlot(destination, signal);
    } finally {
      count(this.waiting, destination, -1);
    }
  }

  private async pollForSlot(destination: string, signal?: AbortSignal): Promise<Lease | null> {
    const deadline = Date.now() + (this.options.waitForSlotMs ?? 2_000);
    for (
      let pause = 20;
      Date.now() + pause <= deadline && !signal?.aborted;
      pause = Math.min(pause * 2, 200)
    ) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      const lease = await this.options.limiter.acquire(destination).catch(() => null);
      if (lease) return lease;
    }
    return null;
  }

  private deferLocal(request: DeliveryRequest, text: string, limit: ShapingLimit): DeliveryReport {
    const base = this.options.retryAfterMs ?? 1_000;
    const retryAfterMs = Math.round(base * (1 + (this.options.random ?? Math.random)()));
    return deferredLocal(request, text, retryAfterMs, limit);
  }
}

/** Nothing was tried: the worker runs the same job again after `retryAfterMs`. */
export function deferredLocal(
  request: DeliveryRequest,
  text: string,
  retryAfterMs: number,
  limit: ShapingLimit,
): DeliveryReport {
  return {
    status: 'deferred-local',
    retryAfterMs,
    limit,
    // RFC 3463 X.4.5 "Mail system congestion"
    results: allRecipients(request, {
      kind: 'deferred',
      code: 451,
      enhanced: '4.4.5',
      text,
      source: 'local',
    }),
  };
}

/** Adds `by` to the destination's count; a count of 0 leaves the map. */
function count(counts: Map<string, number>, destination: string, by: number): void {
  const n = (counts.get(destination) ?? 0) + by;
  if (n > 0) counts.set(destination, n);
  else counts.delete(destination);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
