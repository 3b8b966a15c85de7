/**
 * In-flow control: when commits fall behind, new mail transactions wait at MAIL FROM, so that
 * the messages already sent get their 250 quickly.
 *
 * Why. The time between the client's final dot and our 250 is when a lost connection turns into
 * a duplicate message (RFC 1047), and the client waits through it with the message in limbo.
 * Under load that time grows with the number of transactions in progress, since they share one
 * event loop, one database and the machine's cores. Postfix meets the same problem with
 * `in_flow_delay`: its smtpd pauses before MAIL FROM while mail comes in faster than it goes out.
 * Here the signal is the commit time itself.
 *
 * The algorithm: AIMD on a limit of open transactions, like TCP's congestion window.
 * - Windows. A window closes after at least 100 ms and 10 commits. Its 90th percentile of commit
 *   times (end of data → committed, success or not) is compared with `baseline + targetMs`.
 *   The baseline is the lowest 10th percentile of the windows of the last 10 to 20 s: what a
 *   commit costs without queueing, whatever the database's distance.
 * - Over, while this process is busy: the limit becomes 0.9 × the transactions open now, and
 *   never less than 10. Busy means at least 0.6 of a core of CPU, smoothed over about a second.
 *   Holding MAIL only helps when this process's own work is what the commits queue behind. When
 *   the commits are slow for other reasons (other busy processes on the machine, a slow
 *   database), it would only cost throughput: on a machine shared with the rest of the MTA, mx
 *   is not the bottleneck, and without this rule the limit collapsed and acceptance with it
 *   (bench/README.md, "Measurements behind the code"). The floor keeps some group commit and a fed event loop.
 * - Otherwise, with a MAIL that had to wait in that window: the limit grows by one.
 *   With no limit reached, the limit does not grow, so it stays close to what is in use.
 * - A MAIL that finds the limit reached waits its turn (first come, first served). It waits until
 *   a transaction ends or `maxDelayMs` has passed. After that it goes ahead anyway, so a slow
 *   database costs at most that much per transaction, and never a refusal.
 * - What counts. A transaction counts from its MAIL until its data is answered, its session ends,
 *   or the session starts another. One left open longer than `staleMs` stops counting; after RSET
 *   the handler hears nothing.
 * - After a second with no transaction open, the next MAIL starts afresh: no limit, and the load
 *   measured from then on.
 */
export interface FlowControlOptions {
  /** Queueing allowed on top of the baseline commit time, ms; 0 turns flow control off. */
  targetMs: number;
  /** Longest wait of one MAIL, ms. */
  maxDelayMs: number;
  /** A transaction open longer than this stops counting, ms. Default 60 s. */
  staleMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Cores' worth of CPU this process used since the last call (tests); default process.cpuUsage. */
  cpuLoad?: () => number;
  /** Told every change of the limit (Infinity: no limit). */
  onLimit?: (limit: number) => void;
  /** Told how each MAIL that had to wait ended: let in by a free slot, or the longest wait. */
  onDelayed?: (outcome: 'admitted' | 'timeout', waitedMs: number) => void;
}

const WINDOW_MS = 100;
const WINDOW_SAMPLES = 10;
const BASELINE_BUCKET_MS = 10_000;
const DECREASE = 0.9;
const MIN_LIMIT = 10;
/** Cores' worth of CPU from which this process counts as busy (smoothed over about a second). */
const BUSY = 0.6;
const LOAD_SMOOTHING = 0.8;
/** After this long with no transaction open, flow control starts afresh (no limit). */
const QUIET_MS = 1_000;

interface Waiter {
  id: string;
  since: number;
  timer: NodeJS.Timeout;
  resolve: (goAhead: boolean) => void;
}

export class FlowControl {
  /** Open transactions: session id → when it was let in. */
  private readonly open = new Map<string, number>();
  private readonly waiters: Waiter[] = [];
  private currentLimit = Infinity;
  private samples: number[] = [];
  private windowStart: number;
  private waitedInWindow = false;
  /** Lowest window p10 of the current and of the previous baseline bucket. */
  private baselineNow = Infinity;
  private baselineBefore = Infinity;
  private bucketStart: number;
  private lastSweep: number;
  private readonly now: () => number;
  private readonly cpuLoad: () => number;
  /** This process's CPU load, smoothed over the windows. */
  private load: number | null = null;
  /** Since when no transaction has been open (null: some are). */
  private idleSince: number | null = null;
  private readonly staleMs: number;

  constructor(private readonly options: FlowControlOptions) {
    this.now = options.now ?? (() => performance.now());
    this.cpuLoad = options.cpuLoad ?? processCpuLoad(this.now);
    this.staleMs = options.staleMs ?? 60_000;
    this.windowStart = this.bucketStart = this.lastSweep = this.now();
  }

  get enabled(): boolean {
    return this.options.targetMs > 0;
  }

  /** How many transactions may be open at once now (Infinity: no limit). */
  get limit(): number {
    return this.currentLimit;
  }

  /** Transactions open now. */
  get openTransactions(): number {
    return this.open.size;
  }

  /** MAIL commands waiting now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * A new transaction of this session, at MAIL FROM: resolves when it may go ahead (true), or
   * false if the session was released while it waited (the connection closed).
   */
  admit(id: string): Promise<boolean> {
    this.release(id);
    if (!this.enabled) return Promise.resolve(true);
    if (this.idleSince !== null && this.now() - this.idleSince > QUIET_MS) this.startAfresh();
    if (this.open.size >= this.currentLimit) this.sweep(false);
    if (this.open.size < this.currentLimit && this.waiters.length === 0) {
      this.open.set(id, this.now());
      this.idleSince = null;
      return Promise.resolve(true);
    }
    this.waitedInWindow = true;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        id,
        since: this.now(),
        resolve,
        timer: setTimeout(() => {
          this.dropWaiter(waiter);
          this.options.onDelayed?.('timeout', this.now() - waiter.since);
          resolve(true);
        }, this.options.maxDelayMs),
      };
      waiter.timer.unref?.();
      this.waiters.push(waiter);
    });
  }

  /** The session's transaction ended (answered, abandoned, or the connection closed). */
  release(id: string): void {
    if (this.open.delete(id)) {
      this.letIn();
      if (this.open.size === 0 && this.waiters.length === 0) this.idleSince = this.now();
      return;
    }
    // A session that closes while its MAIL waits: that MAIL ends, without a slot.
    const waiter = this.waiters.find((w) => w.id === id);
    if (waiter) {
      this.dropWaiter(waiter);
      waiter.resolve(false);
    }
  }

  /** How long one message waited for its commit (end of data → committed or failed), ms. */
  committed(ms: number): void {
    if (!this.enabled) return;
    this.samples.push(ms);
    const now = this.now();
    if (now - this.windowStart < WINDOW_MS || this.samples.length < WINDOW_SAMPLES) return;
    this.closeWindow(now);
  }

  private closeWindow(now: number): void {
    const sorted = this.samples.sort((a, b) => a - b);
    const p10 = sorted[Math.floor(0.1 * (sorted.length - 1))];
    const p90 = sorted[Math.floor(0.9 * (sorted.length - 1))];
    if (now - this.bucketStart >= BASELINE_BUCKET_MS) {
      this.baselineBefore = this.baselineNow;
      this.baselineNow = Infinity;
      this.bucketStart = now;
    }
    this.baselineNow = Math.min(this.baselineNow, p10);
    const baseline = Math.min(this.baselineNow, this.baselineBefore);
    this.sweep(true);
    const load = this.cpuLoad();
    this.load = this.load === null ? load : LOAD_SMOOTHING * this.load + (1 - LOAD_SMOOTHING) * load;
    if (p90 > baseline + this.options.targetMs && this.load >= BUSY) {
      this.setLimit(Math.max(MIN_LIMIT, Math.min(this.currentLimit, this.open.size) * DECREASE));
    } else if (this.waitedInWindow) {
      this.setLimit(this.currentLimit + 1);
    }
    this.samples = [];
    this.windowStart = now;
    this.waitedInWindow = this.waiters.length > 0;
    this.letIn();
  }

  /**
   * A new burst after a quiet time: the old limit and load say nothing about it. Without this, a
   * burst of many slow internet clients would start under the limit left by an earlier one.
   */
  private startAfresh(): void {
    this.setLimit(Infinity);
    this.load = null;
    this.cpuLoad(); // the reading over the quiet time is not this burst's
    this.samples = [];
    this.windowStart = this.now();
    this.waitedInWindow = false;
    this.idleSince = null;
  }

  private setLimit(limit: number): void {
    if (limit === this.currentLimit) return;
    this.currentLimit = limit;
    this.options.onLimit?.(limit);
  }

  /** Stop counting transactions open longer than `staleMs` (at most once a second unless forced). */
  private sweep(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastSweep < 1_000) return;
    this.lastSweep = now;
    for (const [id, since] of this.open) if (now - since > this.staleMs) this.open.delete(id);
  }

  /** Hand free slots to the waiting MAILs, in order. */
  private letIn(): void {
    while (this.open.size < this.currentLimit && this.waiters.length > 0) {
      const next = this.waiters.shift() as Waiter;
      clearTimeout(next.timer);
      this.open.set(next.id, this.now());
      this.options.onDelayed?.('admitted', this.now() - next.since);
      next.resolve(true);
    }
  }

  private dropWaiter(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const i = this.waiters.indexOf(waiter);
    if (i >= 0) this.waiters.splice(i, 1);
  }
}

/** CPU (user + system, all threads) this process used per unit of wall time since the last call. */
function processCpuLoad(now: () => number): () => number {
  let last = { cpu: process.cpuUsage(), at: now() };
  return () => {
    const current = { cpu: process.cpuUsage(), at: now() };
    const usedMs = (current.cpu.user - last.cpu.user + current.cpu.system - last.cpu.system) / 1000;
    const load = usedMs / Math.max(1, current.at - last.at);
    last = current;
    return load;
  };
}
