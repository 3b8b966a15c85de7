import { describe, expect, it } from 'vitest';
import { Drain } from './drain';

describe('Drain', () => {
  it('tells its listeners first, then runs every step at the same time, once', async () => {
    const drain = new Drain();
    const events: string[] = [];
    drain.onStart(() => events.push('start'));
    let releaseA!: () => void;
    drain.register({
      name: 'a',
      run: () =>
        new Promise<void>((resolve) => {
          events.push('a started');
          releaseA = resolve;
        }),
    });
    drain.register({ name: 'b', run: async () => void events.push('b started') });
    expect(drain.draining).toBe(false);
    const first = drain.run();
    const second = drain.run();
    expect(second).toBe(first);
    expect(drain.draining).toBe(true);
    // b started while a was still running: they run together.
    expect(events).toEqual(['start', 'a started', 'b started']);
    releaseA();
    expect(await first).toEqual([]);
  });

  it('reports a step that fails and still waits for the others', async () => {
    const drain = new Drain();
    let bDone = false;
    drain.register({ name: 'a', run: () => Promise.reject(new Error('boom')) });
    drain.register({
      name: 'b',
      run: () => new Promise<void>((r) => setTimeout(() => ((bDone = true), r()), 20)),
    });
    expect(await drain.run()).toEqual([{ name: 'a', error: 'boom' }]);
    expect(bDone).toBe(true);
  });
});
