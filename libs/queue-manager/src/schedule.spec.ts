import type { Recipient } from '@mta/db';
import { QueueName, jobIdOf, parseJob } from '@mta/queue';
import { describe, expect, it } from 'vitest';
import { parseOrcpt } from './bounces';
import { destinationOf, planJobs } from '@mta/queue-state';
import { DEFAULT_SCHEDULE, delayWarningDue, nextAttempt, resolveSchedule, retryDelay } from './schedule';

const MIN = 60_000;

describe('retry schedule', () => {
  it.each([
    [1, 5 * MIN],
    [2, 10 * MIN],
    [3, 20 * MIN],
    [4, 40 * MIN],
    [5, 80 * MIN],
    [6, 160 * MIN],
    [7, 240 * MIN],
    [30, 240 * MIN],
  ])('after attempt %i the nominal delay is %i ms (5 min doubling, capped at 4 h)', (attempts, expected) => {
    expect(retryDelay(DEFAULT_SCHEDULE, attempts, () => 0.5)).toBe(expected);
  });

  it('jitter stays within ±10 % and never exceeds the cap', () => {
    expect(retryDelay(DEFAULT_SCHEDULE, 1, () => 0)).toBe(4.5 * MIN);
    expect(retryDelay(DEFAULT_SCHEDULE, 1, () => 0.999999)).toBeCloseTo(5.5 * MIN, -2);
    expect(retryDelay(DEFAULT_SCHEDULE, 20, () => 0.999999)).toBe(240 * MIN);
    expect(retryDelay(DEFAULT_SCHEDULE, 20, () => 0)).toBe(216 * MIN);
  });

  it('never schedules past the expiry, and null once expired (5 days)', () => {
    const received = new Date('2026-11-01T00:00:00Z');
    const almost = new Date(received.getTime() + 5 * 24 * 60 * MIN - MIN);
    expect(nextAttempt(DEFAULT_SCHEDULE, received, 10, almost, () => 0.5)).toEqual(
      new Date(received.getTime() + 5 * 24 * 60 * MIN),
    );
    expect(
      nextAttempt(
        DEFAULT_SCHEDULE,
        received,
        10,
        new Date(received.getTime() + 5 * 24 * 60 * MIN),
        () => 0.5,
      ),
    ).toBeNull();
  });

  it('delay warning after 4 hours', () => {
    const received = new Date('2026-11-01T00:00:00Z');
    expect(delayWarningDue(DEFAULT_SCHEDULE, received, new Date(received.getTime() + 239 * MIN))).toBe(false);
    expect(delayWarningDue(DEFAULT_SCHEDULE, received, new Date(received.getTime() + 240 * MIN))).toBe(true);
  });

  it('refuses nonsense', () => {
    expect(() => resolveSchedule({ firstRetryMs: -1 })).toThrow(/firstRetryMs/);
    expect(() => resolveSchedule({ jitter: 1 })).toThrow(/jitter/);
  });
});

const rcpt = (id: string, address: string, route: Recipient['route'], attempts = 0): Recipient =>
  ({ id, address, domain: address.split('@')[1], route, attempts, status: 'queued' }) as Recipient;

describe('job planning', () => {
  it('one job per route and destination; attempt = most tried member + 1', () => {
    const jobs = planJobs('m1', [
      rcpt('a', 'a@x.example', 'remote', 2),
      rcpt('b', 'b@x.example', 'remote', 0),
      rcpt('c', 'c@y.example', 'remote'),
      rcpt('d', 'd@ours.example', 'local'),
      rcpt('e', 'e@backup.example', 'relay'),
    ]);
    expect(jobs).toEqual([
      { messageId: 'm1', route: 'remote', destination: 'x.example', recipientIds: ['a', 'b'], attempt: 3 },
      { messageId: 'm1', route: 'remote', destination: 'y.example', recipientIds: ['c'], attempt: 1 },
      { messageId: 'm1', route: 'local', destination: 'local', recipientIds: ['d'], attempt: 1 },
      { messageId: 'm1', route: 'relay', destination: 'backup.example', recipientIds: ['e'], attempt: 1 },
    ]);
  });

  it('with a smart host every remote recipient goes to relay:<host> in one job', () => {
    const jobs = planJobs(
      'm1',
      [
        rcpt('a', 'a@x.example', 'remote'),
        rcpt('c', 'c@y.example', 'remote'),
        rcpt('d', 'd@o.example', 'local'),
      ],
      'smtp.isp.example:587',
    );
    expect(jobs.map((j) => [j.destination, j.recipientIds])).toEqual([
      ['relay:smtp.isp.example:587', ['a', 'c']],
      ['local', ['d']],
    ]);
    expect(destinationOf('relay', 'backup.example', 'smtp.isp.example')).toBe('backup.example');
  });
});

describe('ORCPT', () => {
  it('decodes xtext (RFC 3461 §4)', () => {
    expect(parseOrcpt('rfc822;Bob+2Bx@example.org')).toEqual({
      type: 'rfc822',
      address: 'Bob+x@example.org',
    });
    expect(parseOrcpt(null)).toBeUndefined();
    expect(parseOrcpt('garbage')).toBeUndefined();
  });
});

describe('contracts as the queue manager uses them', () => {
  it('a smart host destination gives a job id BullMQ accepts (no ":")', () => {
    const id = jobIdOf[QueueName.Delivery]({
      messageId: 'm1',
      route: 'remote',
      destination: 'relay:smtp.isp.example:587',
      recipientIds: ['a'],
      attempt: 2,
    });
    expect(id).toBe('delivery/m1/remote/relay%3Asmtp.isp.example%3A587/2');
  });

  it('outcome results may carry the remote host and TLS facts (optional)', () => {
    const job = parseJob(QueueName.Outcome, {
      messageId: 'm1',
      route: 'remote',
      destination: 'x.example',
      attempt: 1,
      results: [
        { recipientId: 'r1', kind: 'delivered', code: 250, text: 'ok' },
        {
          recipientId: 'r2',
          kind: 'deferred',
          code: 451,
          enhanced: '4.7.1',
          text: 'later',
          remote: { host: 'mx.x.example', address: '192.0.2.1', port: 25 },
          tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: false },
        },
      ],
    });
    expect(job.results[1].remote?.host).toBe('mx.x.example');
    expect(() =>
      parseJob(QueueName.Outcome, {
        ...job,
        results: [{ ...job.results[0], remote: { host: 'h', extra: 1 } }],
      }),
    ).toThrow(/remote/);
  });
});
