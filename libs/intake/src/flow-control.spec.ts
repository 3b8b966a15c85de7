import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlowControl, type FlowControlOptions } from './flow-control';

// FlowControl with a test clock: a window closes on the commit that finds both 100 ms gone and 10
// commits in it. The smtp-level behaviour (MAIL held, then answered) is in mx.int.spec.ts.

function setup(options: Partial<FlowControlOptions> = {}) {
  let now = 0;
  /** This process's CPU load in cores, as the flow control reads it at each window. */
  const cpu = { load: 1 };
  const delays: { outcome: string; ms: number }[] = [];
  const limits: number[] = [];
  const flow = new FlowControl({
    targetMs: 6,
    maxDelayMs: 1000,
    now: () => now,
    cpuLoad: () => cpu.load,
    onLimit: (l) => limits.push(l),
    onDelayed: (outcome, ms) => delays.push({ outcome, ms }),
    ...options,
  });
  /** One window of ten commits of `ms` each (a window also needs 100 ms). */
  const window = (ms: number, samples = 10) => {
    now += 100;
    for (let i = 0; i < samples; i++) flow.committed(ms);
  };
  const advance = (ms: number) => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };
  /** Fifty transactions open, a quick window (the baseline), then a slow one: limit 45. */
  const throttled = async () => {
    await open(flow, 50);
    window(2);
    window(30);
  };
  return { flow, window, advance, delays, limits, cpu, throttled };
}

/** Admits `n` sessions s0..s(n-1) that find a free slot (resolved at once). */
async function open(flow: FlowControl, n: number, prefix = 's') {
  await Promise.all(Array.from({ length: n }, (_, i) => flow.admit(`${prefix}${i}`)));
}

/** Whether the promise has settled, after the pending callbacks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('FlowControl', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets every transaction in while commits keep their usual time', async () => {
    const { flow, window, limits } = setup();
    await open(flow, 200);
    for (let i = 0; i < 20; i++) window(2);
    expect(flow.limit).toBe(Infinity);
    expect(await settled(flow.admit('late'))).toBe(true);
    expect(limits).toEqual([]);
  });

  it('does nothing when turned off (target 0), however slow the commits', async () => {
    const { flow, window } = setup({ targetMs: 0 });
    await open(flow, 50);
    window(1);
    window(500);
    expect(flow.limit).toBe(Infinity);
    expect(flow.openTransactions).toBe(0);
    expect(await settled(flow.admit('late'))).toBe(true);
  });

  it('limits to 0.9 × the open transactions when the 90th percentile passes baseline + target', async () => {
    const { flow, window } = setup();
    await open(flow, 50);
    window(2); // baseline 2 ms
    window(8); // at baseline + target: still fine
    expect(flow.limit).toBe(Infinity);
    window(8.5); // just past
    expect(flow.limit).toBe(45);
  });

  it('limits only while this process uses at least 0.6 of a core', async () => {
    const at = setup();
    at.cpu.load = 0.6;
    await open(at.flow, 50);
    at.window(2);
    at.window(30);
    expect(at.flow.limit).toBe(45);

    const under = setup();
    under.cpu.load = 0.59; // the commits are slow, but not because of this process's own work
    await open(under.flow, 50);
    under.window(2);
    for (let i = 0; i < 20; i++) under.window(30);
    expect(under.flow.limit).toBe(Infinity);
  });

  it('smooths the load over the windows: one quiet window does not lift the limit', async () => {
    const { flow, window, cpu, throttled } = setup();
    await throttled();
    expect(flow.limit).toBe(45);
    cpu.load = 0.2;
    window(30); // smoothed: 0.8 × 1 + 0.2 × 0.2 = 0.84, still busy
    expect(flow.limit).toBe(40.5);
    for (let i = 0; i < 5; i++) window(30); // 0.2 for long enough: no longer busy
    const limit = flow.limit;
    void flow.admit('waiting');
    window(30);
    expect(flow.limit).toBe(limit + 1);
  });

  it('judges a window by its 90th percentile, not by its one slowest commit', async () => {
    const { flow, window } = setup();
    await open(flow, 50);
    window(2);
    flow.committed(50); // one slow of ten: the 90th percentile is still 2 ms
    window(2, 9);
    expect(flow.limit).toBe(Infinity);
    flow.committed(50); // two of ten
    flow.committed(50);
    window(2, 8);
    expect(flow.limit).toBe(45);
  });

  it('closes a window only after 100 ms', async () => {
    const { flow, window } = setup();
    await open(flow, 50);
    window(2);
    for (let i = 0; i < 10; i++) flow.committed(100); // no time has passed: the same window
    expect(flow.limit).toBe(Infinity);
    window(100, 1);
    expect(flow.limit).toBe(45);
  });

  it('closes a window only after 10 commits', async () => {
    const { flow, window } = setup();
    await open(flow, 50);
    window(2);
    window(100, 9);
    expect(flow.limit).toBe(Infinity);
    flow.committed(100);
    expect(flow.limit).toBe(45);
  });

  it('holds MAIL while the limit is reached and lets the waiters in, in order, as transactions end', async () => {
    const { flow, delays, throttled } = setup();
    await throttled(); // limit 45, 50 open
    const a = flow.admit('a');
    const b = flow.admit('b');
    expect(flow.waiting).toBe(2);
    for (let i = 0; i < 5; i++) flow.release(`s${i}`); // 45 open: still at the limit
    expect(await settled(a)).toBe(false);
    flow.release('s5'); // 44: room for one
    expect(await a).toBe(true);
    expect(await settled(b)).toBe(false);
    flow.release('s6');
    expect(await b).toBe(true);
    expect(delays.map((d) => d.outcome)).toEqual(['admitted', 'admitted']);
    expect(flow.openTransactions).toBe(45);
  });

  it('grows the limit by one per window under target, only while MAIL commands wait', async () => {
    const { flow, window, throttled } = setup();
    await throttled();
    expect(flow.limit).toBe(45);
    window(2); // nobody waited: no growth
    expect(flow.limit).toBe(45);
    const waiting = flow.admit('w');
    for (let i = 0; i < 4; i++) window(2); // waited in each: 46, 47, 48, 49
    expect(flow.limit).toBe(49);
    expect(await settled(waiting)).toBe(false); // 50 open, limit 49
    window(2);
    window(2);
    expect(flow.limit).toBe(51);
    expect(await settled(waiting)).toBe(true);
  });

  it('never limits below 10 transactions', async () => {
    const { flow, window } = setup();
    await open(flow, 12);
    window(1);
    window(100);
    expect(flow.limit).toBe(10.8); // 0.9 × 12
    window(100);
    expect(flow.limit).toBe(10);
    expect(await settled(flow.admit('thirteenth'))).toBe(false);
  });

  it('lets a MAIL go ahead after the longest delay, without a slot', async () => {
    const { flow, advance, delays, throttled } = setup({ maxDelayMs: 1000 });
    await throttled();
    const late = flow.admit('late');
    advance(999);
    expect(await settled(late)).toBe(false);
    advance(1);
    expect(await late).toBe(true);
    expect(delays).toEqual([{ outcome: 'timeout', ms: 1000 }]);
    expect(flow.openTransactions).toBe(50);
    expect(flow.waiting).toBe(0);
  });

  it('ends the wait of a session that closes (false), without giving it a slot', async () => {
    const { flow, throttled } = setup();
    await throttled();
    const gone = flow.admit('gone');
    flow.release('gone');
    expect(await gone).toBe(false);
    expect(flow.waiting).toBe(0);
    expect(flow.openTransactions).toBe(50);
  });

  it('starts afresh after more than a second with no transaction open', async () => {
    const { flow, advance, throttled } = setup();
    await throttled();
    for (let i = 0; i < 50; i++) flow.release(`s${i}`);
    advance(1000); // exactly a second: the limit stands
    await flow.admit('a');
    expect(flow.limit).toBe(45);
    flow.release('a');
    advance(1001); // just past
    await flow.admit('b');
    expect(flow.limit).toBe(Infinity);
  });

  it('keeps its limit through a stall: transactions open, no commits', async () => {
    const { flow, advance, throttled } = setup();
    await throttled();
    advance(5000);
    expect(await settled(flow.admit('during'))).toBe(false);
    expect(flow.limit).toBe(45);
  });

  it('frees the slot of the previous transaction when a session starts another', async () => {
    const { flow } = setup();
    await flow.admit('s');
    await flow.admit('s');
    expect(flow.openTransactions).toBe(1);
  });

  it('stops counting a transaction left open longer than staleMs', async () => {
    const { flow, window, advance } = setup({ staleMs: 60_000 });
    await open(flow, 25, 'idle'); // at 0 ms
    advance(30_000);
    await open(flow, 25, 'busy');
    window(2);
    window(30); // 30,200 ms: 50 open, limit 45
    advance(29_700);
    const at = flow.admit('at');
    window(2); // 60,000 ms: the idle ones are exactly 60 s old and still count
    expect(await settled(at)).toBe(false);
    advance(1);
    window(2); // just past: they stop counting
    expect(await at).toBe(true);
    expect(flow.openTransactions).toBe(26);
  });

  it('measures queueing from the baseline, so a distant database alone does not engage it', async () => {
    const { flow, window } = setup();
    await open(flow, 50);
    for (let i = 0; i < 50; i++) window(30); // every commit takes 30 ms, steadily
    expect(flow.limit).toBe(Infinity);
    window(37);
    expect(flow.limit).toBe(45);
  });

  it('forgets a baseline older than 20 s, so a database that became slower is not held to it', async () => {
    const { flow, window, throttled } = setup();
    await throttled();
    expect(flow.limit).toBe(45);
    for (let i = 0; i < 100; i++) window(30); // 10 s of 30 ms commits: still over 2 + 6 ms
    expect(flow.limit).toBe(10);
    for (let i = 0; i < 100; i++) window(30); // 20 s: 30 ms is the baseline now
    void flow.admit('waiting');
    window(30);
    expect(flow.limit).toBe(11);
  });
});
