import { createLogger } from '@mta/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { exitOnShutdownSignals } from './shutdown';

const logger = createLogger('all-in-one', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    await sleep(10);
    expect(closes).toBe(1);
    expect(codes).toEqual([0]);
  });

  it('exits 1 when closing does not finish within the bound (a close that never returns)', async () => {
    const codes: number[] = [];
    const app = { close: () => new Promise<void>(() => undefined) };
    remove = exitOnShutdownSignals(app, logger, {
      signals: ['SIGUSR2'],
      timeoutMs: 50,
      exit: (c) => codes.push(c),
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    await sleep(20);
    expect(codes).toEqual([]);
    await sleep(60);
    expect(codes).toEqual([1]);
  });
});
