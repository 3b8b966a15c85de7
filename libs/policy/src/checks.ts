/**
 * The policy checks answered by the policy service: DNS lists at connect, rate limits at
 * connect, MAIL and RCPT, greylisting at RCPT. Plain functions over a question, the settings
 * and small stores; no Nest, no BullMQ.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { JobData, QueueName } from '@mta/queue';
import { ACCEPT, refuse, type PolicyAnswer } from './answers';
import { expandIpv6, findListing, type DnsListResolver } from './dns-lists';
import type { PolicySettings, SubmissionLimits } from './settings';
import type { GreylistStore, RateCounter, RateLimit } from './stores';

export type PolicyQuestion = JobData<QueueName.Policy>;

/** An account's own limits from the admin API: a number replaces the default, null keeps it. */
export type AccountLimitOverrides = Partial<Record<keyof SubmissionLimits, number | null>>;

export interface CheckDependencies {
  resolver: DnsListResolver;
  greylist: GreylistStore;
  counter: RateCounter;
  accountLimits(login: string): Promise<AccountLimitOverrides | null>;
  now(): number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export async function answerQuestion(
  q: PolicyQuestion,
  settings: PolicySettings,
  deps: CheckDependencies,
): Promise<PolicyAnswer> {
  if (q.service === 'submission') return submissionLimits(q, settings, deps);
  switch (q.stage) {
    case 'connect':
      return mxConnect(q, settings, deps);
    case 'mail':
      return mxRate(q, deps, settings.mxRates.messages, 'messages');
    case 'rcpt': {
      const rate = await mxRate(q, deps, settings.mxRates.recipients, 'recipients');
      return rate.refusal ? rate : greylist(q, settings, deps);
    }
    default:
      return ACCEPT;
  }
}

/** The network a client is counted and greylisted by: the address, or its /64 for IPv6. */
export function clientKey(address: string): string {
  return net.isIPv6(address) && !address.startsWith('::ffff:')
    ? `${expandIpv6(address).slice(0, 16)}/64`
    : address.replace(/^::ffff:/, '');
}

async function mxConnect(q: PolicyQuestion, settings: PolicySettings, deps: CheckDependencies) {
  const allowed = await findListing(deps.resolver, q.clientAddress, settings.dnswlZones);
  if (allowed === null) {
    const listed = await findListing(deps.resolver, q.clientAddress, settings.dnsblZones);
    // RFC 5782 §1 leaves the reply to the user of the list; this is Postfix's wording.
    if (listed)
      return refuse(
        554,
        '5.7.1',
        `Service unavailable; client [${q.clientAddress}] blocked using ${listed.zone}; ${listed.reason}`,
      );
  }
  const limit = settings.mxRates.connections;
  const passed =
    limit > 0
      ? await deps.counter.hit([
          { key: `mx:connections:${clientKey(q.clientAddress)}`, limit, windowMs: MINUTE, what: '' },
        ])
      : null;
  // Postfix's anvil: too many connections is 421 at the greeting, and the connection closes.
  if (passed) return refuse(421, '4.7.0', `Error: too many connections from ${q.clientAddress}`);
  return { refusal: null, allowListed: allowed !== null };
}

async function mxRate(q: PolicyQuestion, deps: CheckDependencies, limit: number, what: string) {
  if (limit <= 0) return ACCEPT;
  const key = `mx:${what}:${clientKey(q.clientAddress)}`;
  const passed = await deps.counter.hit([{ key, limit, windowMs: MINUTE, what }]);
  return passed ? refuse(450, '4.7.1', `Error: too many ${what} from ${q.clientAddress}`) : ACCEPT;
}

async function greylist(q: PolicyQuestion, settings: PolicySettings, deps: CheckDependencies) {
  const on = q.greylist ?? settings.greylisting;
  if (!on || q.allowListed || q.authUser !== undefined) return ACCEPT;
  const verdict = await deps.greylist.check(
    greylistTriplet(q.clientAddress, q.sender ?? '', q.recipient ?? ''),
    deps.now(),
    settings.greylistDelayMs,
    settings.greylistTtlMs,
  );
  if (verdict.pass) return ACCEPT;
  const seconds = Math.ceil(verdict.retryInMs / 1000);
  return refuse(451, '4.7.1', `Greylisted, please try again in ${seconds} seconds`);
}

/** The greylisting triplet: the client's /24 (IPv4) or /64 (IPv6), sender and recipient. */
export function greylistTriplet(address: string, sender: string, recipient: string): string {
  const plain = address.replace(/^::ffff:/, '');
  const network = net.isIPv4(plain) ? `${plain.split('.').slice(0, 3).join('.')}.0/24` : clientKey(address);
  return createHash('sha256')
    .update(`${network}\n${sender.toLowerCase()}\n${recipient.toLowerCase()}`)
    .digest('base64url');
}

async function submissionLimits(q: PolicyQuestion, settings: PolicySettings, deps: CheckDependencies) {
  const login = q.authUser?.toLowerCase();
  if (login === undefined || (q.stage !== 'mail' && q.stage !== 'rcpt')) return ACCEPT;
  const own = (await deps.accountLimits(login)) ?? {};
  const limit = (name: keyof SubmissionLimits) => own[name] ?? settings.submission[name];
  const kind = q.stage === 'mail' ? 'messages' : 'recipients';
  const limits: RateLimit[] = [
    { key: `sub:${kind}:hour:${login}`, limit: limit(`${kind}PerHour`), windowMs: HOUR, what: 'hour' },
    { key: `sub:${kind}:day:${login}`, limit: limit(`${kind}PerDay`), windowMs: DAY, what: 'day' },
  ].filter((l) => l.limit > 0);
  const passed = await deps.counter.hit(limits);
  if (!passed) return ACCEPT;
  return refuse(450, '4.7.1', `Error: too many ${kind} per ${passed.what} from ${login}, try again later`);
}
