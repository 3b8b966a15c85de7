/**
 * The report fits the `outcome` job contract (libs/queue), and RELAY_HOST parsing.
 */
import { describe, expect, it } from 'vitest';
import { OutcomeJob, RecipientOutcome } from '@mta/queue';
import type { DeliveryReport } from './contract';
import { kindOf } from './contract';
import { toOutcomeResults } from './outcome';
import { parseRelayHost } from './remote/route';

const report: DeliveryReport = {
  status: 'attempted',
  results: [
    {
      recipientId: '3f1e9c1a-0000-4000-8000-000000000001',
      address: 'a@example.net',
      kind: 'delivered',
      code: 250,
      enhanced: '2.0.0',
      text: 'Ok: queued as 4Xy',
      source: 'remote',
      remote: { host: 'mx.example.net', address: '192.0.2.1', port: 25 },
      tls: null,
      nextHopDsn: false,
    },
    {
      recipientId: '3f1e9c1a-0000-4000-8000-000000000002',
      address: 'b@example.net',
      kind: 'deferred',
      code: 421,
      text: 'x'.repeat(5000),
      source: 'local',
    },
  ],
};

describe('toOutcomeResults', () => {
  it('carries the TLS facts as the delivery_attempts columns want them', () => {
    const [r] = toOutcomeResults({
      status: 'attempted',
      results: [
        {
          ...report.results[0],
          tls: {
            protocol: 'TLSv1.3',
            cipher: 'TLS_AES_256_GCM_SHA384',
            servername: 'mx.example.net',
            authorized: false,
            authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT',
            peerSubject: 'mx.example.net',
            peerIssuer: 'mx.example.net',
            peerFingerprint256: null,
          },
        },
      ],
    });
    expect(RecipientOutcome.parse(r)).toEqual(r);
    expect(r.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: false });
  });

  it('gives results the outcome job contract accepts', () => {
    const results = toOutcomeResults(report);
    for (const r of results) expect(RecipientOutcome.parse(r)).toEqual(r);
    expect(results[0]).toEqual({
      recipientId: report.results[0].recipientId,
      kind: 'delivered',
      code: 250,
      enhanced: '2.0.0',
      text: 'Ok: queued as 4Xy',
      remote: { host: 'mx.example.net', address: '192.0.2.1', port: 25 },
      tls: null,
      nextHopDsn: false, // RFC 3461 §5.2.2: the queue manager owes a `relayed` notice
    });
    expect(results[1]).not.toHaveProperty('enhanced');
    expect(results[1]).not.toHaveProperty('nextHopDsn');
    expect(results[1]).not.toHaveProperty('remote');
    expect(results[1]).not.toHaveProperty('tls');
    expect(results[1].text.length).toBe(2000);
    expect(() =>
      OutcomeJob.parse({ messageId: 'm1', route: 'remote', destination: 'example.net', attempt: 1, results }),
    ).not.toThrow();
  });
});

describe('kindOf', () => {
  it('maps 2xx, 4xx and 5xx', () => {
    expect([250, 251, 421, 452, 550, 556].map(kindOf)).toEqual([
      'delivered',
      'delivered',
      'deferred',
      'deferred',
      'failed',
      'failed',
    ]);
  });
});

describe('parseRelayHost', () => {
  it.each([
    ['smtp.example.com:587', { host: 'smtp.example.com', port: 587 }],
    ['smtp.example.com', { host: 'smtp.example.com', port: 25 }],
    ['[smtp.example.com]:2525', { host: 'smtp.example.com', port: 2525 }],
    ['[2001:db8::1]:25', { host: '2001:db8::1', port: 25 }],
    ['192.0.2.1:10025', { host: '192.0.2.1', port: 10025 }],
  ])('%s', (value, expected) => {
    expect(parseRelayHost(value)).toEqual(expected);
  });

  it.each(['', 'host:0', 'host:70000', 'a:b:c', 'host:port'])('refuses %j', (value) => {
    expect(typeof parseRelayHost(value)).toBe('string');
  });
});
