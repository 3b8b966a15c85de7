import { Writable } from 'node:stream';
import { createLogger, Metrics } from '@mta/observability';
import type { SessionInfo } from '@mta/smtp-server';
import { describe, expect, it } from 'vitest';
import { IntakeMetrics } from './intake-metrics';
import { TransactionLog } from './transaction-log';

function setup() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _e, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const metrics = new Metrics('test');
  const log = new TransactionLog('mx', createLogger('mx', 'info', sink), IntakeMetrics.for(metrics.registry));
  const session = {
    id: 's1',
    remoteAddress: '192.0.2.9',
    helo: { verb: 'EHLO', domain: 'client.example' },
    user: null,
    tls: null,
  } as unknown as SessionInfo;
  return { lines, metrics, log, session };
}

describe('TransactionLog', () => {
  it('writes one line for an accepted transaction with client, HELO, sender, recipients and queue id', async () => {
    const { lines, metrics, log, session } = setup();
    log.mail(session, 'bob@remote.example');
    log.recipient(session, 'alice@local.example');
    log.recipientRefused(session, 'nobody@local.example', { code: 550, enhanced: '5.1.1' });
    log.accepted(session, 'Q123', 42);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      client: '192.0.2.9',
      helo: 'client.example',
      sender: 'bob@remote.example',
      recipients: ['alice@local.example'],
      refusedRecipients: [{ address: 'nobody@local.example', code: 550, enhanced: '5.1.1' }],
      result: 'accepted',
      queueId: 'Q123',
      size: 42,
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('mta_intake_transactions_total{service="mx",result="accepted",reason=""} 1');
    expect(text).toContain('mta_intake_recipients_total{service="mx",result="refused",reason="5.1.1"} 1');
    expect(text).toContain('mta_intake_tls_messages_total{service="mx",tls="no"} 1');

    // The same client again, over TLS: counted apart (the dashboard's inbound TLS share).
    const overTls = { ...session, tls: { protocol: 'TLSv1.3' } } as unknown as SessionInfo;
    log.mail(overTls, 'bob@remote.example');
    log.recipient(overTls, 'alice@local.example');
    log.accepted(overTls, 'Q124', 42);
    expect(await metrics.registry.metrics()).toContain(
      'mta_intake_tls_messages_total{service="mx",tls="yes"} 1',
    );
  });

  it('writes one line for a refusal at MAIL, at the end of data, and for an abandoned transaction', async () => {
    const { lines, metrics, log, session } = setup();
    log.mailRefused(session, 'x@y.example', { code: 553, enhanced: '5.7.1', text: 'not yours' });
    log.mail(session, 'bob@remote.example');
    log.refused(session, { code: 552, enhanced: '5.3.4', text: 'too big' });
    log.mail(session, 'carol@remote.example');
    log.closed(session);
    expect(lines.map((l) => [l['result'], l['sender'], l['reply']])).toEqual([
      ['refused', 'x@y.example', '553 5.7.1 not yours'],
      ['refused', 'bob@remote.example', '552 5.3.4 too big'],
      ['abandoned', 'carol@remote.example', undefined],
    ]);
    expect(await metrics.registry.metrics()).toContain(
      'mta_intake_transactions_total{service="mx",result="refused",reason="5.3.4"} 1',
    );
  });
});
