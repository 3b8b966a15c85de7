/**
 * One destination's share of a delivery process (`DELIVERY_CONCURRENCY`): all but a quarter of
 * its deliveries, at least one, so that a receiver that stalls its sessions never takes every
 * delivery of the process, even where its connection limit is as large as the process (both
 * default to 20). Postfix gets the same from a process limit (100) well above a destination's (20).
 *
 * A delivery over the share may wait a little for one of the destination's deliveries to end
 * (its claim is handed over, so no newcomer can slip in between), as long as one slot of the
 * process stays out of the destination's reach: the rest of the process keeps the pipeline of
 * a busy destination full without bouncing its jobs through the queue, and a stalled one still
 * leaves a slot for other mail. Any other is refused at once, and its job goes back.
 */

/** The most deliveries of a process of `concurrency` that one destination may hold. */
export function destinationShare(concurrency: number): number {
  return Math.max(1, concurrency - Math.max(1, Math.ceil(concurrency / 4)));
}

export class ProcessShare {
  /** Deliveries holding a claim, per destination. */
  private readonly claimed = new Map<string, number>();
  /** Deliveries waiting for a claim, per destination, oldest first. */
  private readonly waiters = new Map<string, ((claimed: boolean) => void)[]>();

  /** `concurrency` undefined: no share, every claim succeeds. */
  constructor(private readonly concurrency?: number) {}

  /**
   * True once the caller holds a claim for `destination` (at once, or within `waitMs` when it
   * may wait); false: over the share, give the job back. A true claim must be `release`d.
   */
  async claim(destination: string, waitMs: number): Promise<boolean> {
    if (this.concurrency === undefined) return true;
    const share = destinationShare(this.concurrency);
    const held = this.claimed.get(destination) ?? 0;
    if (held < share) {
      this.claimed.set(destination, held + 1); // before any await: a burst cannot pass together
      return true;
    }
    const queue = this.waiters.get(destination) ?? [];
    if (queue.length >= this.concurrency - share - 1 || waitMs <= 0) return false;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const i = queue.indexOf(wake);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0) this.waiters.delete(destination);
        resolve(false);
      }, waitMs);
      const wake = (claimed: boolean): void => {
        clearTimeout(timer);
        resolve(claimed);
      };
      queue.push(wake);
      this.waiters.set(destination, queue);
    });
  }

  /** Ends a claim: handed to the oldest waiter, if any, else freed. */
  release(destination: string): void {
    if (this.concurrency === undefined) return;
    const queue = this.waiters.get(destination);
    const next = queue?.shift();
    if (queue?.length === 0) this.waiters.delete(destination);
    if (next) return next(true);
    const n = (this.claimed.get(destination) ?? 1) - 1;
    if (n > 0) this.claimed.set(destination, n);
    else this.claimed.delete(destination);
  }
}
