/**
 * Remote delivery over SMTP: MX lookup (or a smart host), the hosts in order, opportunistic
 * STARTTLS, per-recipient results, pooled sessions.
 *
 * Which failures move on to the next host (RFC 5321 §5.1: "try at least two addresses"; §3.8
 * and §4.2.5: a 421 or a lost connection settles nothing):
 * - a connection that fails or times out, a 4xx (or 421) greeting or EHLO, a TLS failure: next
 *   address. A 5xx greeting or HELO too: RFC 5321 §3.1 makes 554 the refusal of one server,
 *   and a backup MX may still accept (Postfix `smtp_skip_5xx_greeting = yes`). Only when every
 *   host tried refused with 5xx is it permanent (failed); if any failed temporarily: deferred.
 * - inside a session, 2xx and 5xx verdicts are final for their recipients; recipients deferred
 *   (RCPT or MAIL 4xx, a drop, 421) are carried on to the next host, as Postfix does for backup
 *   MXs. A remote 4xx reply is kept as the recipient's answer over a later local failure.
 * - at most `maxAddresses` connection attempts and `maxSessions` sessions per delivery
 *   (Postfix `smtp_mx_address_limit = 5`, `smtp_mx_session_limit = 2`).
 */
import {
  DeliveryError,
  SmtpClient,
  type RecipientResult,
  type Timeouts,
  type TlsFacts,
  type TlsPolicy,
  type TlsSettings,
  type TraceFn,
} from '@mta/smtp-client';
import type { MxResolver } from '@mta/dns';
import { noPolicy, type HostTls, type PlanOptions, type TlsPlan } from '@mta/tls-policy';
import { headerNeedsUtf8, openBody } from '../body';
import {
  allRecipients,
  type DeliveryAgent,
  type DeliveryReport,
  type DeliveryRequest,
  type RecipientDelivery,
} from '../contract';
import { defaultDestination } from '../limits/limited-agent';
import { SmtpConnectionPool, type ConnectionPoolOptions, type SessionLimits } from './connection-pool';
import { routeFor, type RelayHost, type RouteHost } from './route';

export interface RemoteAgentOptions {
  /** Our name in EHLO (`MTA_HOSTNAME`). */
  readonly heloName: string;
  /** MX lookup (`DNS_SERVERS`); required unless `relay` is set. */
  readonly resolver?: MxResolver;
  /** Port of remote exchangers (`DELIVERY_PORT`, default 25). */
  readonly port?: number;
  /** Smart host mode (`RELAY_HOST`): every message goes there, no MX lookup. */
  readonly relay?: RelayHost;
  /** Default `opportunistic` (STARTTLS when offered, certificate not verified). */
  readonly tls?: TlsPolicy;
  readonly tlsSettings?: TlsSettings;
  readonly timeouts?: Partial<Timeouts>;
  /**
   * Pooled sessions: a pool shared with others (the caller closes it), `false` for none, or the
   * options of a pool of its own, closed by `close()` (the default, with the pool's defaults).
   */
  readonly pool?: SmtpConnectionPool | false | ConnectionPoolOptions;
  readonly maxAddresses?: number;
  readonly maxSessions?: number;
  /** Outbound source address. */
  readonly localAddress?: string;
  readonly trace?: TraceFn;
  /**
   * MTA-STS (and later DANE) for MX deliveries: which MX hosts may be used and what TLS each
   * needs. Absent: opportunistic STARTTLS everywhere. Not used for the smart host.
   */
  readonly tlsPolicy?: { plan(domain: string, options?: PlanOptions): Promise<TlsPlan> };
  /**
   * The traffic shaping of a request's destination (limits/shaping.ts): how many messages a
   * session carries before QUIT, and how many idle sessions are kept per host. Absent: the
   * pool's options.
   */
  readonly sessionLimits?: (request: DeliveryRequest) => SessionLimits;
}

/** A failed connection attempt, kept to answer for recipients no session reached. */
interface HostFailure {
  readonly error: DeliveryError;
  readonly host: RouteHost;
  readonly address: string | undefined;
  readonly tls: TlsFacts | null;
  readonly tlsPolicy?: HostTls['label'];
}

/** Where a session goes, and where a failed connection is recorded. */
interface SessionTarget {
  readonly host: RouteHost;
  readonly address: string | undefined;
  readonly hostTls: HostTls;
  readonly failures: HostFailure[];
  readonly plan: TlsPlan;
}

export class RemoteDeliveryAgent implements DeliveryAgent {
  private readonly pool: SmtpConnectionPool | null;
  private readonly ownsPool: boolean;

  constructor(private readonly options: RemoteAgentOptions) {
    const { pool } = options;
    this.ownsPool = pool !== false && !(pool instanceof SmtpConnectionPool);
    this.pool =
      pool === false ? null : pool instanceof SmtpConnectionPool ? pool : new SmtpConnectionPool(pool);
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryReport> {
    if (request.recipients.length === 0) throw new TypeError('a delivery needs at least one recipient');
    const destination = defaultDestination(request);
    const port = this.options.port ?? 25;
    const route = await routeFor(destination, port, this.options.resolver, this.options.relay);
    if (!route.ok) {
      // DNS said where (not) to go: 556 5.1.10 null MX, 550 5.1.2 NXDOMAIN... or 451 4.4.3.
      const { code, enhanced, text, permanent } = route;
      const kind = permanent ? 'failed' : 'deferred';
      return {
        status: 'attempted',
        results: allRecipients(request, { kind, code, enhanced, text, source: 'local' }),
      };
    }
    // The hosts are known now: DANE looks up their TLSA records (RFC 7672 §2.2.3).
    const hosts = route.hosts.map((h) => h.host);
    const plan = await this.planFor(destination, {
      requireTls: request.envelope.requireTls === true,
      hosts,
      port,
    });
    const refusal = request.envelope.requireTls ? this.requireTlsRefusal(plan) : null;
    if (refusal) return { status: 'attempted', results: allRecipients(request, refusal) };
    return { status: 'attempted', results: await this.tryHosts(request, route.hosts, plan) };
  }

  /**
   * RFC 8689 §4.2.1: a REQUIRETLS message goes only where MTA-STS or DANE authenticates the
   * next hop. No such policy: bounced with 5.7.30 (§5). A policy that exists but could not be
   * fetched now: deferred, it may come back. A smart host is authenticated by neither.
   */
  private requireTlsRefusal(plan: TlsPlan): Omit<RecipientDelivery, 'recipientId' | 'address'> | null {
    if (!this.options.relay && plan.authenticated) return null;
    const base = { source: 'local' as const, tlsPolicy: plan.label };
    if (!this.options.relay && plan.mtaSts?.source === 'failed') {
      const text = `REQUIRETLS: the MTA-STS policy of ${plan.domain} could not be fetched (${plan.mtaSts.fetchError})`;
      return { ...base, kind: 'deferred', code: 451, enhanced: '4.7.30', text };
    }
    const text = this.options.relay
      ? 'REQUIRETLS support required: the smart host is not authenticated by MTA-STS or DANE'
      : `REQUIRETLS support required: ${plan.domain} has no MTA-STS or DANE policy to validate its servers`;
    return { ...base, kind: 'failed', code: 550, enhanced: '5.7.30', text };
  }

  /** The TLS plan of an MX delivery; the smart host and address literals get opportunistic TLS. */
  private async planFor(destination: string, options: PlanOptions): Promise<TlsPlan> {
    const source = this.options.tlsPolicy;
    if (this.options.relay || !source) return noPolicy(destination);
    return source.plan(destination.toLowerCase(), options);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool?.close();
  }

  private async tryHosts(
    request: DeliveryRequest,
    hosts: readonly RouteHost[],
    plan: TlsPlan,
  ): Promise<RecipientDelivery[]> {
    const limits = this.options.sessionLimits?.(request) ?? {};
    const used: { key: string; client: SmtpClient }[] = [];
    try {
      return await this.sendToHosts(request, hosts, plan, limits, used);
    } finally {
      await this.giveBack(used, limits, request);
    }
  }

  /** The hosts in order until every recipient is settled; the sessions used go to `used`. */
  private async sendToHosts(
    request: DeliveryRequest,
    hosts: readonly RouteHost[],
    plan: TlsPlan,
    limits: SessionLimits,
    used: { key: string; client: SmtpClient }[],
  ): Promise<RecipientDelivery[]> {
    const settled = new Map<string, RecipientDelivery>();
    const deferred = new Map<string, RecipientDelivery>();
    const failures: HostFailure[] = [];
    let addresses = 0;
    let sessions = 0;
    const maxAddresses = this.options.maxAddresses ?? 5;
    const maxSessions = this.options.maxSessions ?? 2;

    outer: for (const host of hosts) {
      const hostTls = this.hostTls(plan, host.host);
      if (!hostTls.allowed) {
        // RFC 8461 §5: an MX the enforced policy does not name is never connected to.
        failures.push({
          error: DeliveryError.local('connect', '4.7.0', hostTls.reason ?? 'MX not allowed'),
          host,
          address: undefined,
          tls: null,
        });
        plan.observe({ mx: host.host, refused: true });
        continue;
      }
      for (const address of host.addresses) {
        const open = request.recipients.filter((r) => !settled.has(r.id));
        if (open.length === 0 || addresses >= maxAddresses || sessions >= maxSessions) break outer;
        if (request.signal?.aborted) break outer;
        addresses++;
        // A session is reused only under the TLS requirement it was opened with.
        const key = `${SmtpConnectionPool.key(host.host, address, host.port)}|${hostTls.tls}|${hostTls.label}`;
        const sent = await this.sendOnSession(
          key,
          limits,
          { host, address, hostTls, failures, plan },
          request,
          open,
        );
        if (!sent) continue;
        const { client, results } = sent;
        sessions++;
        const remote = { host: host.host, address: client.remoteAddress ?? address, port: host.port };
        results.forEach((r, i) => {
          const verdict: RecipientDelivery = {
            recipientId: open[i].id,
            address: open[i].address,
            kind: r.kind,
            code: r.code,
            ...(r.enhanced ? { enhanced: r.enhanced } : {}),
            text: r.text,
            source: r.source,
            remote,
            tls: client.tls,
            tlsPolicy: hostTls.label,
            // RFC 3461 §5.2.2: whether NOTIFY went on, or we owe a `relayed` notice.
            nextHopDsn: client.capabilities.dsn,
          };
          if (r.kind !== 'deferred') settled.set(verdict.recipientId, verdict);
          else deferred.set(verdict.recipientId, preferRemote(deferred.get(verdict.recipientId), verdict));
        });
        used.push({ key, client });
      }
    }
    return request.recipients.map(
      (r) => settled.get(r.id) ?? deferred.get(r.id) ?? unreached(r, failures, request.signal),
    );
  }

  /**
   * The delivery's sessions go back to the pool once it is over, not between hosts: the first
   * kept takes over the delivery's connection slot (`request.slot`), which must count the
   * session of the next host meanwhile; a second one is kept only below the limit.
   */
  private async giveBack(
    used: readonly { key: string; client: SmtpClient }[],
    limits: SessionLimits,
    request: DeliveryRequest,
  ): Promise<void> {
    const { slot } = request;
    for (const { key, client } of used) {
      if (this.pool && client.isUsable()) this.pool.release(key, client, limits, slot && (() => slot.idle()));
      else await client.quit();
    }
  }

  /**
   * Sends over a pooled session to `key`, else a new one. A pooled session that died before its
   * MAIL was answered (the server closed it as it was taken again: RFC 5321 §4.5.3.2.7 lets it
   * drop an idle client) accepted nothing, so the message goes at once over a new connection
   * instead of waiting for a retry. Null when no session could be opened.
   */
  private async sendOnSession(
    key: string,
    limits: SessionLimits,
    target: SessionTarget,
    request: DeliveryRequest,
    open: DeliveryRequest['recipients'],
  ): Promise<{ client: SmtpClient; results: RecipientResult[] } | null> {
    const { host, address, hostTls, failures, plan } = target;
    const fresh = (): Promise<SmtpClient | null> =>
      this.connect(host, address, hostTls, failures, request.signal, plan);
    const pooled = await this.pool?.take(key, limits);
    const client = pooled ?? (await fresh());
    if (!client) return null;
    const results = await this.send(client, request, open);
    if (!pooled || !diedBeforeMail(results) || request.signal?.aborted) return { client, results };
    await client.quit();
    const again = await fresh();
    return again ? { client: again, results: await this.send(again, request, open) } : { client, results };
  }

  private hostTls(plan: TlsPlan, mx: string): HostTls {
    const { relay } = this.options;
    if (relay)
      return { allowed: true, tls: relay.tls ?? this.options.tls ?? 'opportunistic', label: 'opportunistic' };
    const planned = plan.host(mx);
    // A policy that authenticates the server wins; otherwise the agent's own setting applies.
    if (planned.label !== 'opportunistic' || !this.options.tls) return planned;
    return { ...planned, tls: this.options.tls, tlsSettings: this.options.tlsSettings };
  }

  private async connect(
    host: RouteHost,
    address: string | undefined,
    hostTls: HostTls,
    failures: HostFailure[],
    signal: AbortSignal | undefined,
    plan: TlsPlan,
  ): Promise<SmtpClient | null> {
    const { relay } = this.options;
    const connecting = SmtpClient.connect({
      host: host.host,
      address,
      port: host.port,
      heloName: this.options.heloName,
      tls: hostTls.tls,
      tlsSettings: hostTls.tlsSettings ?? this.options.tlsSettings,
      ...(hostTls.verifyPeer ? { verifyPeer: hostTls.verifyPeer } : {}),
      auth: relay?.auth,
      allowInsecureAuth: relay?.allowInsecureAuth,
      timeouts: this.options.timeouts,
      localAddress: this.options.localAddress,
      trace: this.options.trace,
    });
    // Connecting may take minutes (a server that accepts and never greets: RFC 5321 §4.5.3.2.1
    // gives the greeting 5 minutes). A worker stopping (the signal) stops waiting at once; the
    // session, if it still comes, is closed. Its recipients are then reported deferred.
    const r = await untilAborted(connecting, signal);
    if (r === 'aborted') {
      void connecting.then((late) => (late.ok ? late.client.close() : undefined)).catch(() => undefined);
      return null;
    }
    if (r.ok) {
      plan.observe({ mx: host.host, address: r.client.remoteAddress ?? address, tls: r.client.tls });
      return r.client;
    }
    plan.observe({ mx: host.host, address, error: r.error });
    failures.push({ error: r.error, host, address, tls: r.tls, tlsPolicy: hostTls.label });
    return null;
  }

  private async send(
    client: SmtpClient,
    request: DeliveryRequest,
    open: DeliveryRequest['recipients'],
  ): Promise<RecipientResult[]> {
    // RFC 6531 §3.4: a SMTPUTF8 message with an ASCII header may go to a hop without SMTPUTF8.
    const utf8Headers = request.envelope.smtpUtf8 ? await headerNeedsUtf8(request.body) : undefined;
    const body = openBody(request.body);
    const abort = (): void => void client.close();
    request.signal?.addEventListener('abort', abort, { once: true });
    try {
      const { envelope } = request;
      const res = await client.send({
        from: envelope.sender,
        recipients: open.map((r) => ({ address: r.address, notify: r.notify, orcpt: r.orcpt })),
        body,
        size: request.size,
        // Declared 8-bit: say so. Not declared: the client finds out (BODY=8BITMIME when offered).
        eightBit: envelope.eightBitMime ? true : undefined,
        smtpUtf8: envelope.smtpUtf8,
        utf8Headers,
        dsn: envelope.dsn,
        // RFC 8689 §4.2.1: the flag goes on (the client refuses a hop without TLS or REQUIRETLS).
        requireTls: envelope.requireTls === true,
      });
      return res.recipients;
    } finally {
      request.signal?.removeEventListener('abort', abort);
      body.destroy(); // stop reading the store if the peer refused before the body
    }
  }
}

/** `promise`, or 'aborted' as soon as `signal` is (or already was) aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | 'aborted'> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise<T | 'aborted'>((resolve, reject) => {
    const onAbort = (): void => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The deferral to report: a later remote reply replaces an earlier one; a local one never replaces a remote. */
function preferRemote(previous: RecipientDelivery | undefined, next: RecipientDelivery): RecipientDelivery {
  return !previous || next.source === 'remote' || previous.source === 'local' ? next : previous;
}

/** No session answered for this recipient: report the last connection failure. */
function unreached(
  r: DeliveryRequest['recipients'][number],
  failures: readonly HostFailure[],
  signal: AbortSignal | undefined,
): RecipientDelivery {
  const last = failures.at(-1);
  if (!last) {
    const text = signal?.aborted
      ? 'delivery interrupted (worker stopping)'
      : 'no mail exchanger could be tried';
    return {
      recipientId: r.id,
      address: r.address,
      kind: 'deferred',
      code: 451,
      enhanced: '4.4.1',
      text,
      source: 'local',
    };
  }
  // Permanent only when every host tried refused with 5xx (RFC 5321 §3.1, §5.1).
  const permanent = failures.every((f) => f.error.kind === 'failed');
  const { error } = last;
  return {
    recipientId: r.id,
    address: r.address,
    kind: permanent ? 'failed' : 'deferred',
    code: error.code,
    ...(error.enhanced ? { enhanced: error.enhanced } : {}),
    text: error.text,
    source: error.source,
    remote: { host: last.host.host, address: last.address, port: last.host.port },
    tls: last.tls,
    ...(last.tlsPolicy ? { tlsPolicy: last.tlsPolicy } : {}),
  };
}

/** Every recipient deferred by this client, at MAIL: the session was gone before any reply. */
function diedBeforeMail(results: readonly RecipientResult[]): boolean {
  return results.every((r) => r.kind === 'deferred' && r.source === 'local' && r.stage === 'mail');
}
