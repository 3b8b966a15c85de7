import { describe, expect, it } from 'vitest';
import { JobContractError, jobIdOf, parseJob } from './contracts';
import { QueueName } from './queue-names';

const delivery = {
  messageId: 'm1',
  route: 'remote',
  destination: 'example.org',
  recipientIds: ['r1', 'r2'],
  attempt: 1,
};

describe('job contracts', () => {
  it.each([
    [QueueName.Accepted, { messageIds: ['abc_123-X'] }],
    [QueueName.Accepted, { messageIds: Array.from({ length: 512 }, (_, i) => `m${i}`) }],
    [QueueName.Delivery, delivery],
    [
      QueueName.Outcome,
      {
        messageId: 'm1',
        route: 'remote',
        destination: 'example.org',
        attempt: 2,
        results: [
          { recipientId: 'r1', kind: 'deferred', code: 450, enhanced: '4.2.0', text: 'mailbox busy' },
        ],
      },
    ],
    [
      QueueName.Policy,
      { stage: 'rcpt', service: 'mx', clientAddress: '192.0.2.1', recipient: 'a@example.com' },
    ],
  ] as const)('accepts a valid %s job', (queue, data) => {
    expect(parseJob(queue, data)).toEqual(data);
  });

  it.each([
    [
      QueueName.Accepted,
      { messageIds: ['m1'], body: 'Subject: hi\r\n\r\nhello' },
      /\(root\): Unrecognized key: "body"/,
    ],
    [QueueName.Accepted, {}, /messageIds: /],
    [QueueName.Accepted, { messageIds: [] }, /messageIds: /],
    [QueueName.Accepted, { messageIds: Array.from({ length: 513 }, (_, i) => `m${i}`) }, /messageIds: /],
    [QueueName.Accepted, { messageIds: ['has:colon'] }, /messageIds\.0: ids are letters/],
    [QueueName.Accepted, { messageIds: ['x'.repeat(65)] }, /messageIds\.0: /],
    [QueueName.Accepted, { messageId: 'm1' }, /Unrecognized key: "messageId"/],
    [QueueName.Delivery, { ...delivery, recipientIds: [] }, /recipientIds: /],
    [QueueName.Delivery, { ...delivery, attempt: 0 }, /attempt: /],
    [QueueName.Delivery, { ...delivery, route: 'carrier-pigeon' }, /route: /],
    [
      QueueName.Policy,
      { stage: 'rcpt', service: 'mx', clientAddress: '1.2.3.4', body: 'x' },
      /Unrecognized key/,
    ],
  ] as const)('refuses a bad %s job and names the field', (queue, data, why) => {
    expect(() => parseJob(queue, data)).toThrow(JobContractError);
    expect(() => parseJob(queue, data)).toThrow(why);
  });

  it('derives the same job id for the same step, and a new one for the next attempt', () => {
    const first = jobIdOf[QueueName.Delivery](parseJob(QueueName.Delivery, delivery));
    expect(first).toBe('delivery/m1/remote/example.org/1');
    expect(jobIdOf[QueueName.Delivery]({ ...parseJob(QueueName.Delivery, delivery), attempt: 2 })).not.toBe(
      first,
    );
    expect(first).not.toContain(':');
  });
});
