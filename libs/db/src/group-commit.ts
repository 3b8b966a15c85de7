/**
 * Group commit: many callers each want one item made durable, and one write of N items costs
 * little more than a write of one (one round trip, one transaction, one WAL flush). So items
 * that arrive while earlier writes are in flight wait and go together in the next write.
 *
 * No timer: an item that finds a free write slot goes at once, alone if it is alone, so a
 * single session sees no added latency; under load, batches grow by themselves to whatever
 * arrived during one write, up to `maxItems` items or `maxWeight` (bytes, say).
 *
 * A failed write of several items is retried one item per write, so one item the database
 * refuses (a constraint, a value out of range) fails only its own caller; when the database
 * is down, every single write fails too and each caller gets its own error.
 */
export interface GroupCommitOptions<T> {
  /** Writes in flight at once (each on its own connection). */
  maxInFlight: number;
  /** Items per write at most. */
  maxItems: number;
  /**
   * A second bound besides the count (bytes, say): the sum of `weight` per write at most; an
   * item heavier than this still goes, alone. Without `weight`, only `maxItems` bounds a write.
   */
  maxWeight?: number;
  weight?: (item: T) => number;
  /** Told the size of every batch written (for a metric). */
  onBatch?: (items: number) => void;
}

/** Writes a batch; resolves with one result per item, in the order given. */
export type BatchWrite<T, R> = (items: readonly T[]) => Promise<readonly R[]>;

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  private readonly waiting: Waiting<T, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly write: BatchWrite<T, R>,
    private readonly options: GroupCommitOptions<T>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Several items at once: they start in the same write, as far as its bounds allow. */
  submitAll(items: readonly T[]): Promise<R[]> {
    const results = items.map(
      (item) => new Promise<R>((resolve, reject) => this.waiting.push({ item, resolve, reject })),
    );
    this.pump();
    return Promise.all(results);
  }

  /** How many writes are running now (for tests and metrics). */
  get writesInFlight(): number {
    return this.inFlight;
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.take();
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  /** The longest prefix of the waiting items within the count and weight bounds (at least one). */
  private take(): Waiting<T, R>[] {
    const { maxItems, maxWeight = Infinity, weight } = this.options;
    if (!weight) return this.waiting.splice(0, maxItems);
    let n = 0;
    let total = 0;
    while (n < this.waiting.length && n < maxItems) {
      const w = weight(this.waiting[n].item);
      if (n > 0 && total + w > maxWeight) break;
      total += w;
      n += 1;
    }
    return this.waiting.splice(0, n);
  }

  private async run(batch: Waiting<T, R>[]): Promise<void> {
    this.options.onBatch?.(batch.length);
    try {
      settle(batch, await this.write(batch.map((w) => w.item)));
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // Find the item at fault: each one alone (the pool bounds how many run at once).
      await Promise.all(
        batch.map(async (one) => {
          try {
            settle([one], await this.write([one.item]));
          } catch (e) {
            one.reject(e);
          }
        }),
      );
    }
  }
}

function settle<T, R>(batch: Waiting<T, R>[], results: readonly R[]): void {
  if (results.length !== batch.length) {
    const error = new Error(`a batch write of ${batch.length} items returned ${results.length} results`);
    for (const w of batch) w.reject(error);
    return;
  }
  batch.forEach((w, i) => w.resolve(results[i]));
}
