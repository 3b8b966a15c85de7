/** What the policy service answers, and the replies the SMTP services turn it into. */

/** A refusal: the SMTP reply to give on the command that asked. */
export interface PolicyRefusal {
  code: number;
  enhanced: string;
  text: string;
}

/** The answer to one question: a refusal or nothing to object, with facts for later stages. */
export interface PolicyAnswer {
  refusal: PolicyRefusal | null;
  /** Connect stage: the client is on a DNS allow list (DNSWL), so DNSBL and greylisting skip it. */
  allowListed?: boolean;
}

export const ACCEPT: PolicyAnswer = { refusal: null };

export const refuse = (code: number, enhanced: string, text: string): PolicyAnswer => ({
  refusal: { code, enhanced, text },
});

/** No answer within POLICY_TIMEOUT_MS: try again later, on any command (never a 250). */
export const POLICY_UNAVAILABLE: PolicyRefusal = {
  code: 451,
  enhanced: '4.7.0',
  text: 'Policy service unavailable, try again later',
};
