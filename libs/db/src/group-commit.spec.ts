import { describe, expect, it } from 'vitest';
import { GroupCommit, type GroupCommitOptions } from './group-commit';

/** A write we finish by hand, recording every batch it was given. */
function manualWrite() {
  const calls: { items: number[]; finish: (fail?: Error) => void }[] = [];
  const write = (items: readonly number[]) =>
    new Promise<number[]>((resolve, reject) => {
      calls.push({
        items: [...items],
        finish: (fail) => (fail ? reject(fail) : resolve(items.map((x) => x * 10))),
      });
    });
  return { calls, write };
}

const options = (o: Partial<GroupCommitOptions<number>> = {}): GroupCommitOptions<number> => ({
  maxInFlight: 1,
  maxItems: 100,
  ...o,
});

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes a lone item at once, and what arrives meanwhile together in the next write', async () => {
    const { calls, write } = manualWrite();
    const group = new GroupCommit(write, options());
    const first = group.submit(1);
    expect(calls.map((c) => c.items)).toEqual([[1]]);
    const rest = [2, 3, 4].map((x) => group.submit(x));
    expect(calls).toHaveLength(1);
    calls[0].finish();
    expect(await first).toBe(10);
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    calls[1].finish();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('starts the items given together in one write (submitAll), within maxItems', async () => {
    const { calls, write } = manualWrite();
    const group = new GroupCommit(write, options({ maxInFlight: 2, maxItems: 3 }));
    const all = group.submitAll([1, 2, 3, 4]);
    // Each submit() alone would have sent [1], then [2, 3, 4] in the second slot.
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3], [4]]);
    calls.forEach((c) => c.finish());
    expect(await all).toEqual([10, 20, 30, 40]);
  });

  it('runs up to maxInFlight writes at once', () => {
    const { calls, write } = manualWrite();
    const group = new GroupCommit(write, options({ maxInFlight: 3 }));
    for (let i = 1; i <= 5; i++) void group.submit(i);
    expect(calls.map((c) => c.items)).toEqual([[1], [2], [3]]);
    expect(group.writesInFlight).toBe(3);
  });

  it('cuts batches at maxItems and at maxWeight, and sends an overweight item alone', async () => {
    const { calls, write } = manualWrite();
    const group = new GroupCommit(write, options({ maxItems: 3, maxWeight: 10, weight: (x) => x }));
    const all = [1, 1, 1, 1, 1, 4, 5, 2, 50, 1].map((x) => group.submit(x));
    for (let i = 0; i < 7; i++) {
      calls[i]?.finish();
      await tick();
    }
    // [1] alone; then three (maxItems); then 1+4+5 = 10 (maxWeight); then 2 (50 would pass 10);
    // then 50, over the bound, alone; then the last.
    expect(calls.map((c) => c.items)).toEqual([[1], [1, 1, 1], [1, 4, 5], [2], [50], [1]]);
    expect(await Promise.all(all)).toEqual([10, 10, 10, 10, 10, 40, 50, 20, 500, 10]);
  });

  it('without a weight, cuts batches at maxItems only', async () => {
    const { calls, write } = manualWrite();
    const group = new GroupCommit(write, options({ maxItems: 2 }));
    const all = [1, 2, 3, 4, 500].map((x) => group.submit(x));
    for (let i = 0; i < 3; i++) {
      calls[i]?.finish();
      await tick();
    }
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3], [4, 500]]);
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 5000]);
  });

  it('after a failed batch, retries each item alone so only the faulty one fails', async () => {
    const write = async (items: readonly number[]) => {
      if (items.includes(13)) throw new Error(`refused ${items.length}`);
      return items.map((x) => x * 10);
    };
    const group = new GroupCommit(write, options());
    const results = await Promise.allSettled([1, 2, 13, 4].map((x) => group.submit(x)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'fulfilled', value: 20 },
      { status: 'rejected', reason: new Error('refused 1') },
      { status: 'fulfilled', value: 40 },
    ]);
  });

  it('rejects every item of a write that returns the wrong number of results', async () => {
    const group = new GroupCommit(async () => [1], options());
    void group.submit(0); // occupies the one slot, so the next two share a write
    const results = await Promise.allSettled([group.submit(1), group.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('keeps going after failures: the slot is freed', async () => {
    let fail = true;
    const group = new GroupCommit(async (items: readonly number[]) => {
      if (fail) throw new Error('down');
      return [...items];
    }, options());
    await expect(group.submit(1)).rejects.toThrow('down');
    fail = false;
    await expect(group.submit(2)).resolves.toBe(2);
    expect(group.writesInFlight).toBe(0);
  });
});
