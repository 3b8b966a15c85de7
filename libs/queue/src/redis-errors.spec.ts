import { describe, expect, it } from 'vitest';
import { LOST_JOB_TEXT, redisErrorLog } from './redis-errors';

function recorder() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  return {
    lines,
    warn: (fields: object, message: string) => lines.push({ level: 'warn', fields: { ...fields }, message }),
    error: (fields: object, message: string) =>
      lines.push({ level: 'error', fields: { ...fields }, message }),
  };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

describe('redisErrorLog', () => {
  it('logs one line per kind of error per interval, then says how often it repeated', () => {
    let now = 0;
    const log = recorder();
    const onError = redisErrorLog(log, { source: 'delivery worker', intervalMs: 30_000, now: () => now });
    for (let i = 0; i < 5; i++) onError(refused());
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      level: 'error',
      message: 'delivery worker: redis error',
      fields: { source: 'delivery worker', err: 'connect ECONNREFUSED 127.0.0.1:6379', code: 'ECONNREFUSED' },
    });
    now = 29_999; // just inside the interval: still quiet
    onError(refused());
    expect(log.lines).toHaveLength(1);
    now = 30_000; // at the interval: the next line, with the 5 repeats it did not log
    onError(refused());
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1].fields.repeated).toBe(5);
  });

  it('logs different errors separately', () => {
    const log = recorder();
    const onError = redisErrorLog(log, { source: 's', now: () => 0 });
    onError(refused());
    onError(new Error('READONLY You can’t write against a read only replica.'));
    expect(log.lines.map((l) => l.fields.err)).toEqual([
      'connect ECONNREFUSED 127.0.0.1:6379',
      'READONLY You can’t write against a read only replica.',
    ]);
  });

  it('logs a job lost to a Redis flush at warn, saying it is expected, once for all such jobs', () => {
    const log = recorder();
    const onError = redisErrorLog(log, { source: 'delivery worker', now: () => 0 });
    onError(new Error('Missing key for job delivery/a/1. moveToFinished'));
    onError(new Error('Missing key for job delivery/b/1. moveToFinished'));
    onError(new Error('Missing lock for job delivery/c/1. moveToFinished'));
    expect(log.lines).toEqual([
      {
        level: 'warn',
        message: 'delivery worker: job lost by Redis (expected after a flush)',
        fields: {
          source: 'delivery worker',
          err: 'Missing key for job delivery/a/1. moveToFinished',
          reason: LOST_JOB_TEXT,
        },
      },
    ]);
  });
});
