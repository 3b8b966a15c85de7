import { Srs } from '@mta/mail';
import { createLogger } from '@mta/observability';
import type { StoredAuthResults } from '@mta/policy';
import { describe, expect, it } from 'vitest';
import type { EnvelopeRecipient, ExpandedMessage } from './envelope-recipients';
import { Forwarding, passedDmarc } from './forwarding';

const srs = new Srs({ secret: 'sixteen+ characters', domain: 'srs.example' });
const forwarding = new Forwarding(srs, () => 'COPYQUEUEID00001', createLogger('test', 'silent'), passedDmarc);

const rcpt = (address: string, forwarded: boolean): EnvelopeRecipient => ({
  address,
  domain: address.split('@')[1],
  route: forwarded ? 'remote' : 'local',
  notify: [],
  orcpt: null,
  forwarded,
});
const message = (sender: string, recipients: EnvelopeRecipient[], dmarc?: string): ExpandedMessage => ({
  queueId: 'MAINQUEUEID00001',
  source: 'mx',
  sender,
  clientAddress: '192.0.2.1',
  clientHelo: 'client.example',
  authUser: null,
  recipients,
  dsnRet: null,
  dsnEnvid: null,
  smtpUtf8: false,
  eightBitMime: false,
  header: { messageId: null, from: null, subject: null },
  chunks: [Buffer.from('Subject: x\r\n\r\nbody\r\n')],
  size: 21,
  authResults: dmarc ? ({ dmarc: { result: dmarc } } as unknown as StoredAuthResults) : null,
});
const summary = (messages: ReturnType<Forwarding['split']>) =>
  messages?.map(
    (m) =>
      `${m.queueId} <${m.sender.replace(/^SRS0=.*@/, 'SRS0@')}> ${m.recipients.map((r) => r.address).join(',')}`,
  );

describe('Forwarding.split', () => {
  const alice = rcpt('alice@local.example', false);
  const friend = rcpt('friend@remote.example', true);

  it('keeps a message without forwarded recipients whole', () => {
    expect(summary(forwarding.split(message('carol@origin.example', [alice])))).toEqual([
      'MAINQUEUEID00001 <carol@origin.example> alice@local.example',
    ]);
  });

  it('puts forwarded recipients in a copy with an SRS sender; alone, they keep the queue id', () => {
    expect(summary(forwarding.split(message('carol@origin.example', [alice, friend])))).toEqual([
      'MAINQUEUEID00001 <carol@origin.example> alice@local.example',
      'COPYQUEUEID00001 <SRS0@srs.example> friend@remote.example',
    ]);
    expect(summary(forwarding.split(message('carol@origin.example', [friend])))).toEqual([
      'MAINQUEUEID00001 <SRS0@srs.example> friend@remote.example',
    ]);
  });

  it('leaves the null sender alone: one message', () => {
    expect(summary(forwarding.split(message('', [alice, friend])))).toEqual([
      'MAINQUEUEID00001 <> alice@local.example,friend@remote.example',
    ]);
  });

  it('never forwards mail that failed our DMARC check: local recipients only, or nothing to store', () => {
    expect(summary(forwarding.split(message('carol@origin.example', [alice, friend], 'fail')))).toEqual([
      'MAINQUEUEID00001 <carol@origin.example> alice@local.example',
    ]);
    expect(forwarding.split(message('carol@origin.example', [friend], 'fail'))).toBeNull();
    expect(summary(forwarding.split(message('carol@origin.example', [friend], 'pass')))).toHaveLength(1);
  });
});
