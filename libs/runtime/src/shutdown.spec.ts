import { createLogger } from '@mta/observability';
import { until } from '@mta/testing';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { SHUTDOWN_TIMEOUT_MS, exitOnShutdownSignals } from './shutdown';

const logger = createLogger('all-in-one', 'silent');

describe('exitOnShutdownSignals', () => {
  let remove: (() => void) | undefined;
  afterEach(() => remove?.());

  it('closes the application once and exits 0', async () => {
    const codes: number[] = [];
    let closes = 0;
    const app = { close: async () => void closes++ };
    remove = exitOnShutdownSignals(app, logger, { signals: ['SIGUSR2'], exit: (c) => codes.push(c) });
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2');
    await until('the exit', () => codes.length > 0);
    expect(closes).toBe(1);
    expect(codes).toEqual([0]);
  });

  it('exits 1 when closing does not finish within the bound (a close that never returns)', async () => {
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    const codes: number[] = [];
    const app = { close: () => new Promise<void>(() => undefined) };
    remove = exitOnShutdownSignals(app, logger, {
      signals: ['SIGUSR2'],
      timeoutMs: 50,
      exit: (c) => codes.push(c),
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    await vi.advanceTimersByTimeAsync(49);
    expect(codes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(codes).toEqual([1]);
  });
});

describe('exitOnShutdownSignals with a drain', () => {
  let remove: (() => void) | undefined;
  afterEach(() => remove?.());

  it('drains before it closes the application, and still closes when a drain step failed', async () => {
    const events: string[] = [];
    const codes: number[] = [];
    let finishDrain!: () => void;
    const app = { close: async () => void events.push('close') };
    remove = exitOnShutdownSignals(app, logger, {
      signals: ['SIGUSR2'],
      exit: (c) => codes.push(c),
      drain: () =>
        new Promise((resolve) => {
          events.push('drain');
          finishDrain = () => resolve([{ name: 'smtp', error: 'boom' }]);
        }),
    });
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    process.emit('SIGUSR2', 'SIGUSR2');
    // Everything that can run runs, up to the default bound's last millisecond.
    await vi.advanceTimersByTimeAsync(SHUTDOWN_TIMEOUT_MS - 1);
    expect(events).toEqual(['drain']); // the application stays open while it drains
    vi.useRealTimers();
    finishDrain();
    await until('the exit', () => codes.length > 0);
    expect(events).toEqual(['drain', 'close']);
    expect(codes).toEqual([0]);
  });

  it('counts the drain in the bound: a drain that never ends still exits 1', async () => {
    const codes: number[] = [];
    remove = exitOnShutdownSignals({ close: async () => undefined }, logger, {
      signals: ['SIGUSR2'],
      timeoutMs: 50,
      exit: (c) => codes.push(c),
      drain: () => new Promise(() => undefined),
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    await until('the exit', () => codes.length > 0);
    expect(codes).toEqual([1]);
  });
});
