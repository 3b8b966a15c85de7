/**
 * The policy side of one SMTP service (mx or submission): which question to ask at connect,
 * MAIL and RCPT, what the session remembers between them, and what a missing answer means.
 */
import { POLICY_UNAVAILABLE, type PolicyAnswer, type PolicyRefusal } from './answers';
import type { PolicyQuestion } from './checks';
import type { PolicyAsker } from './client';
import { stageNeeded, type PolicySettings, type Stage } from './settings';

/** What the gate needs to know of a session (a slice of the SMTP server's SessionInfo). */
export interface PolicySession {
  readonly id: string;
  readonly remoteAddress: string;
  readonly helo: { readonly domain: string } | null;
  readonly user: string | null;
}

/** What the gate reads besides the settings (from the database, cached by the caller). */
export interface PolicyLookups {
  /** Submission: whether an account has limits of its own (then MAIL and RCPT always ask). */
  ownLimits?(login: string): Promise<boolean>;
  /** mx: a domain's own greylisting switch (admin API), or null for the GREYLISTING setting. */
  domainGreylisting?(domain: string): Promise<boolean | null>;
}

/** Told of every question: its stage, how it ended, and how long the answer took (seconds). */
export type PolicyObserver = (
  stage: Stage,
  result: 'accepted' | 'refused' | 'unanswered',
  seconds: number,
) => void;

interface SessionFacts {
  allowListed: boolean;
  /** False when the connect question got no answer in time: it is asked again at MAIL. */
  connectAnswered: boolean;
}

export class PolicyGate {
  private readonly sessions = new Map<string, SessionFacts>();

  constructor(
    private readonly asker: PolicyAsker,
    private readonly settings: PolicySettings,
    private readonly service: 'mx' | 'submission',
    private readonly lookups: PolicyLookups = {},
    private readonly observe: PolicyObserver = () => undefined,
  ) {}

  /**
   * At connect. No answer in time does not refuse the greeting: the session goes on and the
   * question is asked again at MAIL, where a second silence is 451 4.7.0.
   */
  async connect(session: PolicySession): Promise<PolicyRefusal | null> {
    const facts: SessionFacts = { allowListed: false, connectAnswered: true };
    this.sessions.set(session.id, facts);
    if (!(await this.needed(session, 'connect'))) return null;
    const answer = await this.ask(this.question(session, 'connect'));
    if (answer === null) {
      facts.connectAnswered = false;
      return null;
    }
    facts.allowListed = answer.allowListed ?? false;
    return answer.refusal;
  }

  async mail(session: PolicySession, sender: string): Promise<PolicyRefusal | null> {
    if (this.sessions.get(session.id)?.connectAnswered === false) {
      const late = await this.connect(session);
      if (this.sessions.get(session.id)?.connectAnswered === false) return POLICY_UNAVAILABLE;
      // A 421 closes a connection at the greeting; at MAIL it is the 450 of the other rates.
      if (late) return late.code === 421 ? { ...late, code: 450, enhanced: '4.7.1' } : late;
    }
    return this.stage(session, 'mail', { sender });
  }

  async rcpt(session: PolicySession, sender: string, recipient: string): Promise<PolicyRefusal | null> {
    if (this.service === 'submission') return this.stage(session, 'rcpt', { sender, recipient });
    const domain = recipient.slice(recipient.lastIndexOf('@') + 1).toLowerCase();
    // The database unreachable: the setting decides (the recipient check refuses anyway if needed).
    const own = (await this.lookups.domainGreylisting?.(domain).catch(() => null)) ?? null;
    return this.stage(session, 'rcpt', { sender, recipient, greylist: own ?? this.settings.greylisting });
  }

  forget(session: PolicySession): void {
    this.sessions.delete(session.id);
  }

  private async stage(
    session: PolicySession,
    stage: 'mail' | 'rcpt',
    envelope: Pick<PolicyQuestion, 'sender' | 'recipient' | 'greylist'>,
  ): Promise<PolicyRefusal | null> {
    if (!(await this.needed(session, stage, envelope.greylist))) return null;
    const answer = await this.ask({ ...this.question(session, stage), ...envelope });
    return answer === null ? POLICY_UNAVAILABLE : answer.refusal;
  }

  private async ask(q: PolicyQuestion): Promise<PolicyAnswer | null> {
    const started = process.hrtime.bigint();
    const answer = await this.asker.ask(q);
    const result = answer === null ? 'unanswered' : answer.refusal ? 'refused' : 'accepted';
    this.observe(
      q.stage === 'data' ? 'rcpt' : q.stage,
      result,
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    return answer;
  }

  private async needed(session: PolicySession, stage: Stage, greylist?: boolean): Promise<boolean> {
    const allowListed = this.sessions.get(session.id)?.allowListed ?? false;
    if (stageNeeded(this.settings, this.service, stage, { allowListed, greylist })) return true;
    if (this.service !== 'submission' || stage === 'connect' || session.user === null) return false;
    return (await this.lookups.ownLimits?.(session.user.toLowerCase())) ?? false;
  }

  private question(session: PolicySession, stage: Stage): PolicyQuestion {
    const q: PolicyQuestion = { stage, service: this.service, clientAddress: session.remoteAddress };
    if (session.helo) q.helo = session.helo.domain.slice(0, 255);
    if (session.user !== null) q.authUser = session.user;
    if (this.sessions.get(session.id)?.allowListed) q.allowListed = true;
    return q;
  }
}
