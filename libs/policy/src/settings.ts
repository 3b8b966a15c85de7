/** The policy settings, read from the configuration by the client and the service alike. */

/** Per-account limits of submission; 0 means no limit. */
export interface SubmissionLimits {
  messagesPerHour: number;
  messagesPerDay: number;
  recipientsPerHour: number;
  recipientsPerDay: number;
}

export interface PolicySettings {
  dnsblZones: readonly string[];
  dnswlZones: readonly string[];
  greylisting: boolean;
  greylistDelayMs: number;
  greylistTtlMs: number;
  /** Per client IP and minute on mx; 0 means no limit. */
  mxRates: { connections: number; messages: number; recipients: number };
  /** Defaults of every account; an account's own limits (admin API) replace them one by one. */
  submission: SubmissionLimits;
}

/** The configuration variables the policy settings come from (a structural slice of AppConfig). */
export interface PolicyConfig {
  DNSBL_ZONES: readonly string[];
  DNSWL_ZONES: readonly string[];
  GREYLISTING: boolean;
  GREYLIST_DELAY_S: number;
  GREYLIST_TTL_DAYS: number;
  MX_RATE_CONNECTIONS_PER_MIN: number;
  MX_RATE_MESSAGES_PER_MIN: number;
  MX_RATE_RECIPIENTS_PER_MIN: number;
  SUBMISSION_MESSAGES_PER_HOUR: number;
  SUBMISSION_MESSAGES_PER_DAY: number;
  SUBMISSION_RECIPIENTS_PER_HOUR: number;
  SUBMISSION_RECIPIENTS_PER_DAY: number;
}

export function policySettings(config: PolicyConfig): PolicySettings {
  return {
    dnsblZones: config.DNSBL_ZONES,
    dnswlZones: config.DNSWL_ZONES,
    greylisting: config.GREYLISTING,
    greylistDelayMs: config.GREYLIST_DELAY_S * 1000,
    greylistTtlMs: config.GREYLIST_TTL_DAYS * 86_400_000,
    mxRates: {
      connections: config.MX_RATE_CONNECTIONS_PER_MIN,
      messages: config.MX_RATE_MESSAGES_PER_MIN,
      recipients: config.MX_RATE_RECIPIENTS_PER_MIN,
    },
    submission: {
      messagesPerHour: config.SUBMISSION_MESSAGES_PER_HOUR,
      messagesPerDay: config.SUBMISSION_MESSAGES_PER_DAY,
      recipientsPerHour: config.SUBMISSION_RECIPIENTS_PER_HOUR,
      recipientsPerDay: config.SUBMISSION_RECIPIENTS_PER_DAY,
    },
  };
}

export type Stage = 'connect' | 'mail' | 'rcpt';

/**
 * Whether a stage needs the policy service at all, so that mail without policy settings pays
 * no round trip. On submission an account's own limits (admin API) count too: `ownLimits`.
 */
export function stageNeeded(
  settings: PolicySettings,
  service: 'mx' | 'submission',
  stage: Stage,
  facts: { allowListed: boolean; ownLimits?: boolean; greylist?: boolean },
): boolean {
  if (service === 'submission') {
    const s = settings.submission;
    if (stage === 'connect') return false;
    if (facts.ownLimits) return true;
    return stage === 'mail'
      ? s.messagesPerHour + s.messagesPerDay > 0
      : s.recipientsPerHour + s.recipientsPerDay > 0;
  }
  const rates = settings.mxRates;
  switch (stage) {
    case 'connect':
      return settings.dnsblZones.length > 0 || settings.dnswlZones.length > 0 || rates.connections > 0;
    case 'mail':
      return rates.messages > 0;
    case 'rcpt':
      return ((facts.greylist ?? settings.greylisting) && !facts.allowListed) || rates.recipients > 0;
  }
}
