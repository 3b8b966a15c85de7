import { describe, expect, it } from 'vitest';
import { POLICY_UNAVAILABLE, refuse, type PolicyAnswer } from './answers';
import type { PolicyQuestion } from './checks';
import type { PolicyAsker } from './client';
import { PolicyGate } from './gate';
import { policySettings, type PolicyConfig } from './settings';

const OFF: PolicyConfig = {
  DNSBL_ZONES: [],
  DNSWL_ZONES: [],
  GREYLISTING: false,
  GREYLIST_DELAY_S: 300,
  GREYLIST_TTL_DAYS: 36,
  MX_RATE_CONNECTIONS_PER_MIN: 0,
  MX_RATE_MESSAGES_PER_MIN: 0,
  MX_RATE_RECIPIENTS_PER_MIN: 0,
  SUBMISSION_MESSAGES_PER_HOUR: 0,
  SUBMISSION_MESSAGES_PER_DAY: 0,
  SUBMISSION_RECIPIENTS_PER_HOUR: 0,
  SUBMISSION_RECIPIENTS_PER_DAY: 0,
};

/** An asker that records the questions and answers from a script (null: no answer in time). */
function scripted(...answers: (PolicyAnswer | null)[]) {
  const asked: PolicyQuestion[] = [];
  const asker: PolicyAsker = {
    ask: (q) => {
      asked.push(q);
      return Promise.resolve(answers.length > 0 ? (answers.shift() ?? null) : { refusal: null });
    },
  };
  return { asker, asked };
}
const s = (user: string | null = null) => ({
  id: 'a',
  remoteAddress: '192.0.2.1',
  helo: { domain: 'h.example' },
  user,
});

describe('PolicyGate', () => {
  it('asks nothing when no check is configured for a stage', async () => {
    const { asker, asked } = scripted();
    const gate = new PolicyGate(asker, policySettings(OFF), 'mx');
    expect(await gate.connect(s())).toBeNull();
    expect(await gate.mail(s(), 'x@y')).toBeNull();
    expect(await gate.rcpt(s(), 'x@y', 'z@w')).toBeNull();
    const sub = new PolicyGate(asker, policySettings(OFF), 'submission');
    expect(await sub.mail(s('u@x'), 'u@x')).toBeNull();
    expect(asked).toEqual([]);
  });

  it('asks at each stage that has a check, with the envelope so far', async () => {
    const { asker, asked } = scripted();
    const config = { ...OFF, DNSBL_ZONES: ['bl.test'], MX_RATE_MESSAGES_PER_MIN: 5, GREYLISTING: true };
    const gate = new PolicyGate(asker, policySettings(config), 'mx');
    await gate.connect(s());
    await gate.mail(s(), 'bob@x');
    await gate.rcpt(s(), 'bob@x', 'alice@y');
    expect(asked).toEqual([
      { stage: 'connect', service: 'mx', clientAddress: '192.0.2.1', helo: 'h.example' },
      { stage: 'mail', service: 'mx', clientAddress: '192.0.2.1', helo: 'h.example', sender: 'bob@x' },
      {
        stage: 'rcpt',
        service: 'mx',
        clientAddress: '192.0.2.1',
        helo: 'h.example',
        sender: 'bob@x',
        recipient: 'alice@y',
        greylist: true,
      },
    ]);
  });

  it('skips greylisting questions for an allow-listed client', async () => {
    const { asker, asked } = scripted({ refusal: null, allowListed: true });
    const gate = new PolicyGate(
      asker,
      policySettings({ ...OFF, DNSWL_ZONES: ['wl.test'], GREYLISTING: true }),
      'mx',
    );
    await gate.connect(s());
    expect(await gate.rcpt(s(), 'bob@x', 'alice@y')).toBeNull();
    expect(asked.map((q) => q.stage)).toEqual(['connect']);
  });

  it('greets without a connect answer, asks again at MAIL, and refuses MAIL with 451 4.7.0 if still silent', async () => {
    const { asker, asked } = scripted(null, null);
    const gate = new PolicyGate(asker, policySettings({ ...OFF, DNSBL_ZONES: ['bl.test'] }), 'mx');
    expect(await gate.connect(s())).toBeNull();
    expect(await gate.mail(s(), 'bob@x')).toEqual(POLICY_UNAVAILABLE);
    // Now the service answers: the late connect verdict applies at MAIL.
    const later = scripted(null, refuse(554, '5.7.1', 'listed'));
    const gate2 = new PolicyGate(later.asker, policySettings({ ...OFF, DNSBL_ZONES: ['bl.test'] }), 'mx');
    await gate2.connect(s());
    expect(await gate2.mail(s(), 'bob@x')).toEqual({ code: 554, enhanced: '5.7.1', text: 'listed' });
    expect(asked.map((q) => q.stage)).toEqual(['connect', 'connect']);
  });

  it('turns a late 421 (connection rate) into 450 4.7.1 at MAIL', async () => {
    const { asker } = scripted(null, refuse(421, '4.7.0', 'too many connections'));
    const gate = new PolicyGate(asker, policySettings({ ...OFF, MX_RATE_CONNECTIONS_PER_MIN: 1 }), 'mx');
    await gate.connect(s());
    expect(await gate.mail(s(), 'bob@x')).toEqual({
      code: 450,
      enhanced: '4.7.1',
      text: 'too many connections',
    });
  });

  it('no answer at MAIL or RCPT is 451 4.7.0', async () => {
    const { asker } = scripted(null, null, refuse(450, '4.7.1', 'too many'));
    const seen: string[] = [];
    const gate = new PolicyGate(
      asker,
      policySettings({ ...OFF, SUBMISSION_MESSAGES_PER_DAY: 1, SUBMISSION_RECIPIENTS_PER_DAY: 1 }),
      'submission',
      {},
      (stage, result) => seen.push(`${stage} ${result}`),
    );
    expect(await gate.mail(s('u@x'), 'u@x')).toEqual(POLICY_UNAVAILABLE);
    expect(await gate.rcpt(s('u@x'), 'u@x', 'v@y')).toEqual(POLICY_UNAVAILABLE);
    expect(await gate.rcpt(s('u@x'), 'u@x', 'w@y')).toMatchObject({ code: 450 });
    expect(await gate.rcpt(s('u@x'), 'u@x', 'z@y')).toBeNull();
    expect(seen).toEqual(['mail unanswered', 'rcpt unanswered', 'rcpt refused', 'rcpt accepted']);
  });

  it('greylists by the recipient domain own switch, else by the setting', async () => {
    const { asker, asked } = scripted();
    const own = new Map([
      ['on.example', true],
      ['off.example', false],
    ]);
    const lookups = { domainGreylisting: (d: string) => Promise.resolve(own.get(d) ?? null) };
    const off = new PolicyGate(asker, policySettings(OFF), 'mx', lookups);
    await off.rcpt(s(), 'bob@x', 'a@other.example'); // setting off, no own switch: not asked
    await off.rcpt(s(), 'bob@x', 'a@ON.example');
    const on = new PolicyGate(asker, policySettings({ ...OFF, GREYLISTING: true }), 'mx', lookups);
    await on.rcpt(s(), 'bob@x', 'a@off.example'); // setting on, domain off: not asked
    await on.rcpt(s(), 'bob@x', 'a@other.example');
    expect(asked.map((q) => [q.recipient, q.greylist])).toEqual([
      ['a@ON.example', true],
      ['a@other.example', true],
    ]);
  });

  it('asks on submission for an account with limits of its own even when the defaults are off', async () => {
    const { asker, asked } = scripted();
    const gate = new PolicyGate(asker, policySettings(OFF), 'submission', {
      ownLimits: (login) => Promise.resolve(login === 'own@x'),
    });
    await gate.mail(s('other@x'), 'other@x');
    await gate.mail(s('OWN@x'), 'own@x');
    expect(asked).toEqual([
      {
        stage: 'mail',
        service: 'submission',
        clientAddress: '192.0.2.1',
        helo: 'h.example',
        authUser: 'OWN@x',
        sender: 'own@x',
      },
    ]);
  });
});
