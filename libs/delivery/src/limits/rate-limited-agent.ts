/**
 * Wraps a delivery agent with the per-destination message rate (rate-limiter.ts). A delivery
 * whose turn is near (within `maxWaitMs`, default 1 s) waits for it, one per destination in this
 * process; any other is not tried and reports `deferred-local` with `retryAfterMs` = the wait the
 * limiter named plus jitter, so the worker puts the job back into the queue and its slot serves
 * other destinations meanwhile. A throttled destination never holds a worker for longer than
 * `maxWaitMs`. Nothing is reserved for a job put back: the rate is never exceeded, but jobs may
 * come back more often than they can go (the jitter spreads them).
 */
import type { MessageRate } from '@mta/config';
import type { DeliveryAgent, DeliveryReport, DeliveryRequest } from '../contract';
import { defaultDestination, deferredLocal } from './limited-agent';
import type { RateLimiter } from './rate-limiter';
import type { ShapingSource } from './shaping';

export interface RateLimitedAgentOptions {
  readonly limiter: RateLimiter;
  readonly shaping: ShapingSource;
  readonly destinationOf?: (request: DeliveryRequest) => string | Promise<string>;
  /** Longest wait for a turn inside the worker (default 1 s); longer: the job goes back. */
  readonly maxWaitMs?: number;
  readonly random?: () => number;
}

export class RateLimitedAgent implements DeliveryAgent {
  /** Destinations for which a delivery of this process already waits for its turn. */
  private readonly waiting = new Set<string>();

  constructor(
    private readonly inner: DeliveryAgent,
    private readonly options: RateLimitedAgentOptions,
  ) {}

  async deliver(request: DeliveryRequest): Promise<DeliveryReport> {
    // Behind the connection limit, the slot's key is the destination: not looked up twice.
    const destination =
      request.slot?.destination ?? (await (this.options.destinationOf ?? defaultDestination)(request));
    const rate = this.options.shaping.shapingOf(destination).maxMessageRate;
    if (!rate) return this.inner.deliver(request);
    let waitMs: number;
    try {
      waitMs = await this.turn(destination, rate, request.signal);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      const retryAfterMs = Math.round(1_000 * (1 + this.random()));
      return deferredLocal(
        request,
        `message rate of ${destination} unavailable: ${why}`,
        retryAfterMs,
        'unavailable',
      );
    }
    if (waitMs === 0) return this.inner.deliver(request);
    // Spread the jobs put back over up to as long again (at least 1 s, at most a minute).
    const jitter = Math.min(60_000, Math.max(1_000, waitMs));
    const text = `message rate of ${destination} reached, will try again shortly`;
    return deferredLocal(request, text, waitMs + Math.round(jitter * this.random()), 'rate');
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private get random(): () => number {
    return this.options.random ?? Math.random;
  }

  /** 0 once this delivery may go, else the wait the limiter named. */
  private async turn(destination: string, rate: MessageRate, signal?: AbortSignal): Promise<number> {
    const first = await this.options.limiter.take(destination, rate);
    if (first.ok) return 0;
    const maxWaitMs = this.options.maxWaitMs ?? 1_000;
    if (first.waitMs > maxWaitMs || this.waiting.has(destination)) return first.waitMs;
    this.waiting.add(destination);
    try {
      const deadline = Date.now() + maxWaitMs;
      let wait = first.waitMs;
      while (Date.now() + wait <= deadline && !signal?.aborted) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        const next = await this.options.limiter.take(destination, rate);
        if (next.ok) return 0;
        wait = next.waitMs;
      }
      return wait;
    } finally {
      this.waiting.delete(destination);
    }
  }
}
