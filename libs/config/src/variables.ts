import os from 'node:os';
import { z } from 'zod';
import { both, flag, integer, parsed, variable } from './variable-kinds';
import { webhookVariables } from './webhook-variables';
import { parseListenAddress } from './listen-address';
import { parseLocalDelivery } from './local-delivery';
import { parseMessageRate } from './message-rate';
import { parseDirMode, parseFileMode, parseOwner } from './maildir-settings';

export type { Variable } from './variable-kinds';

const listen = parsed(parseListenAddress);

function url(protocols: string[]) {
  const isUrl = (value: string) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  };
  return z.string().refine(isUrl, `expected a ${protocols.join(' or ')}// URL`);
}

/** One resolver: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; port 53 by default. */
function parseResolver(server: string): { host: string; port: number } | string {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(server);
  const [host, portText] = bracketed
    ? [bracketed[1], bracketed[2]]
    : server.split(':').length > 2
      ? [server, undefined]
      : server.split(':');
  const port = portText === undefined ? 53 : Number(portText);
  if (!host || !/^[0-9A-Za-z.:-]+$/.test(host)) return `"${server}" is not a host or host:port`;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `"${server}" has a port outside 1-65535`;
  return { host, port };
}

function resolverList(value: string) {
  const out: { host: string; port: number }[] = [];
  for (const server of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const resolver = parseResolver(server);
    if (typeof resolver === 'string') return resolver;
    out.push(resolver);
  }
  return out;
}

/** `a.example, b.example`: lower-cased host names, no duplicates. */
function domainList(value: string): string[] | string {
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(/\.$/, ''))
    .filter(Boolean);
  const bad = names.find(
    (n) =>
      !/^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)+$/.test(
        n,
      ),
  );
  return bad === undefined ? [...new Set(names)] : `"${bad}" is not a domain name`;
}

const port = parsed((value: string) =>
  /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535
    ? Number(value)
    : `expected a TCP port 1-65535, got "${value}"`,
);

/**
 * Every environment variable the MTA reads, with its documentation and its defaults.
 * `production` defaults are the standard ports; `development` defaults (NODE_ENV=development,
 * which `npm start` sets) bind 127.0.0.1 on high ports so a non-root user can run it.
 * The README's configuration table is checked against this list by a test.
 */
export const variables = {
  NODE_ENV: variable(
    'Profile: `production` (standard ports, all interfaces) or `development` (127.0.0.1, high ports; set by `npm start`).',
    z.enum(['production', 'development', 'test']),
    both('production'),
  ),
  DATABASE_URL: variable(
    'PostgreSQL connection URL, the durable store.',
    url(['postgres:', 'postgresql:']),
    both('postgresql://postgres@127.0.0.1:5432/mta'),
    true,
  ),
  REDIS_URL: variable(
    'Redis connection URL, the job queue (BullMQ).',
    url(['redis:', 'rediss:']),
    both('redis://127.0.0.1:6379'),
    true,
  ),
  REDIS_PREFIX: variable(
    'Key prefix of every queue in Redis, so several installations (or test runs) can share one Redis.',
    z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 letters, digits, "_", "." or "-"'),
    both('mta'),
  ),
  MTA_HOSTNAME: variable(
    'The host name this MTA announces in its greeting, EHLO and Received headers.',
    z
      .string()
      .regex(
        /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
        'expected a host name such as mail.example.com',
      ),
    both(os.hostname()),
  ),
  MX_LISTEN: variable('Where `mx` accepts mail from the internet.', listen, {
    production: '0.0.0.0:25',
    development: '127.0.0.1:2525',
  }),
  SUBMISSION_LISTEN: variable('Where `submission` accepts mail from users (STARTTLS).', listen, {
    production: '0.0.0.0:587',
    development: '127.0.0.1:2587',
  }),
  SUBMISSIONS_LISTEN: variable('Where `submission` accepts mail over implicit TLS (RFC 8314).', listen, {
    production: '0.0.0.0:465',
    development: '127.0.0.1:2465',
  }),
  ADMIN_LISTEN: variable(
    'Where `admin-api` (and `all-in-one`) serve the REST API, health and metrics.',
    listen,
    { production: '0.0.0.0:8080', development: '127.0.0.1:8080' },
  ),
  HEALTH_LISTEN: variable(
    'Where services without an API serve `/healthz`, `/readyz` and `/metrics`.',
    listen,
    { production: '0.0.0.0:9090', development: '127.0.0.1:9090' },
  ),
  TLS_CERT_FILE: variable(
    'PEM certificate chain for STARTTLS and port 465. Set together with `TLS_KEY_FILE`.',
    z.string().min(1),
    {},
  ),
  TLS_KEY_FILE: variable('PEM private key for `TLS_CERT_FILE`.', z.string().min(1), {}),
  DNS_SERVERS: variable(
    'Comma-separated resolvers, `host` or `host:port` (IPv6 as `[::1]:53`). Empty: the system resolvers.',
    parsed(resolverList),
    both(''),
  ),
  DANE_RESOLVER: variable(
    "A DNSSEC-validating resolver of yours (`host` or `host:port`, e.g. a local unbound) for DANE (RFC 7672): its AD bit, and nobody else's, says whether an MX RRset and the TLSA records of the MX hosts are signed. Set: hosts with TLSA records are authenticated by them and never reached in clear text. Unset: no DANE.",
    parsed(parseResolver),
    {},
  ),
  DELIVERY_PORT: variable('TCP port of remote mail exchangers; tests point it at a sink.', port, both('25')),
  LOCAL_DELIVERY: variable(
    'Mailbox delivery for local domains: `maildir:/path` or `lmtp://host:port`.',
    parsed(parseLocalDelivery),
    { production: 'maildir:/var/spool/mta/maildir', development: 'maildir:./tmp/maildir' },
  ),
  MAILDIR_FILE_MODE: variable(
    'Mode (octal) of the message files Maildir delivery writes. The default lets a mail server of the same group (Dovecot as another user) read them.',
    parsed(parseFileMode),
    both('0660'),
  ),
  MAILDIR_DIR_MODE: variable(
    'Mode (octal) of the directories Maildir delivery creates (domain, user, Maildir, tmp/new/cur). The default gives the group what Dovecot needs (move new/ to cur/, its index files), and setgid (2000) keeps the group on everything created inside.',
    parsed(parseDirMode),
    both('2770'),
  ),
  MAILDIR_OWNER: variable(
    'Numeric `uid:gid` (or `uid`, or `:gid`) given to what Maildir delivery creates. Another uid needs the process to run as root; a gid, root or membership of that group. Unset: the process user and the group setgid passes down.',
    parsed(parseOwner),
    {},
  ),
  RELAY_HOST: variable(
    'Smart host for mail to remote domains, `host`, `host:port` or `[host]:port` (port 25 by default): no MX lookup. Unset: direct delivery to each MX. Relay domains always go to their own MX.',
    z
      .string()
      .regex(/^(?:\[[^\]\s]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/, 'expected host, host:port or [host]:port'),
    {},
  ),
  RELAY_HOST_USERNAME: variable(
    'User name for SMTP AUTH (RFC 4954, PLAIN or LOGIN) at `RELAY_HOST`. Needs a password (`RELAY_HOST_PASSWORD` or `RELAY_HOST_PASSWORD_FILE`). With credentials, delivery to the smart host requires STARTTLS (RFC 4954 §4): no TLS, no AUTH, the mail waits (4.7.4).',
    z.string().min(1).max(255),
    {},
  ),
  RELAY_HOST_PASSWORD: variable(
    'Password for `RELAY_HOST_USERNAME`. Secret: never logged nor repeated in errors. Or use `RELAY_HOST_PASSWORD_FILE`.',
    z.string().min(1).max(1024),
    {},
    true,
  ),
  RELAY_HOST_PASSWORD_FILE: variable(
    'File holding the password for `RELAY_HOST_USERNAME` (e.g. a mounted Kubernetes Secret), read at start; one trailing newline is ignored. Instead of `RELAY_HOST_PASSWORD`.',
    z.string().min(1),
    {},
  ),
  MTA_STS: variable(
    'Honour the MTA-STS policies (RFC 8461) of the domains we send to: an `enforce` policy lets mail go only to the MX hosts it names, over TLS with a certificate valid for that host; anything else defers the mail, never sends it in clear text. `false`: opportunistic STARTTLS only.',
    flag,
    both('true'),
  ),
  MTA_STS_FETCH_TIMEOUT_MS: variable(
    'Longest wait for the HTTPS fetch of one MTA-STS policy (ms). A policy that cannot be fetched is treated as none (RFC 8461 §3.3) and not asked for again for an hour.',
    integer(1000, 60_000),
    both('10000'),
  ),
  TLSRPT_SEND: variable(
    'Send the daily TLS-RPT reports (RFC 8460) to the domains whose MTA-STS policies we met: at 00:10 UTC, the day before, to the `rua` of their `_smtp._tls` TXT record (mail through our own queue, DKIM-signed like our DSNs, or HTTPS).',
    flag,
    both('true'),
  ),
  TLSRPT_CONTACT: variable(
    'The `contact-info` of our TLS-RPT reports. Unset: `postmaster@` the domain of `MTA_HOSTNAME`.',
    z.string().min(3).max(255),
    {},
  ),
  TLSRPT_RECEIVE_ADDRESS: variable(
    'Where other MTAs send TLS-RPT reports about our domains (the `rua=mailto:` of our `_smtp._tls` records, e.g. `tlsrpt@example.org`; it needs an account or alias so that mx accepts it). Reports delivered there are stored and shown by `GET /api/v1/tls-reports`; other mail to it goes to the mailbox. Unset: it is an ordinary mailbox.',
    z
      .email()
      .max(254)
      .transform((v) => v.toLowerCase()),
    {},
  ),
  DELIVERY_CONCURRENCY: variable(
    'Delivery jobs one `delivery` process works on at once (per-destination limits apply across processes).',
    integer(1, 1000),
    both('20'),
  ),
  DELIVERY_MAX_CONNECTIONS: variable(
    "Traffic shaping, default for every destination (recipient domain): SMTP sessions delivering to it at once, across all `delivery` processes. 20 is Postfix's `default_destination_concurrency_limit`, polite to a small receiver. Per-domain overrides: `/api/v1/shaping`.",
    integer(1, 10_000),
    both('20'),
  ),
  DELIVERY_MAX_MESSAGES_PER_CONNECTION: variable(
    'Traffic shaping, default per destination: messages one SMTP session carries before QUIT and a new connection (KumoMTA `max_deliveries_per_connection`). Per-domain overrides: `/api/v1/shaping`.',
    integer(1, 100_000),
    both('100'),
  ),
  DELIVERY_MAX_MESSAGE_RATE: variable(
    'Traffic shaping, default per destination: messages sent to it per period across all processes, e.g. `10/s`, `300/min`, `1000/h` (a GCRA in Redis, no burst). Unset: no rate limit (Postfix and KumoMTA have none by default). Per-domain overrides: `/api/v1/shaping`.',
    parsed(parseMessageRate),
    {},
  ),
  DELIVERY_SHAPING_BY: variable(
    "Traffic shaping: what a destination is. `domain`: each recipient domain has its own limits. `mx`: the set of MX hosts the domain's mail goes to (KumoMTA's site), so the domains one provider hosts share one budget of connections and messages per second; an override then names an MX host.",
    z.enum(['domain', 'mx']),
    both('domain'),
  ),
  DELIVERY_SHAPING_REFRESH_MS: variable(
    'How often a `delivery` process reloads the per-domain shaping overrides from PostgreSQL (ms): an override changed through the API applies within this long.',
    integer(100, 600_000),
    both('5000'),
  ),
  DELIVERY_LOCK_MS: variable(
    "How long a delivery job stays claimed without its worker renewing the claim (ms); a killed worker's jobs go to another worker after about twice this.",
    integer(1000, 600_000),
    both('30000'),
  ),
  ALL_IN_ONE_MODE: variable(
    '`all-in-one` only: `supervise` runs one process per service (mx, submission, queue, policy, admin-api and `ALL_IN_ONE_DELIVERY_WORKERS` delivery processes), restarts any that dies and answers for them all on `ADMIN_LISTEN`; `single` runs every module in one process (one core; what some tests want).',
    z.enum(['supervise', 'single']),
    both('supervise'),
  ),
  ALL_IN_ONE_DELIVERY_WORKERS: variable(
    '`all-in-one` in `supervise` mode: how many `delivery` processes it runs. Default: half the cores (`os.availableParallelism()`), at least 1. A delivery process mostly waits on the network with `DELIVERY_CONCURRENCY` deliveries in flight, and mx, the queue manager, PostgreSQL and Redis need the other cores: on 2 cores a second process costs more CPU per message than it adds (bench/README.md, issue 21).',
    integer(1, 64),
    both(String(Math.max(1, Math.floor(os.availableParallelism() / 2)))),
  ),
  ALL_IN_ONE_BACKGROUND_NICE: variable(
    "`all-in-one` in `supervise` mode: the CPU niceness (0-19) of the `queue` and `delivery` processes. When the cores are busy, mx, submission, policy and the admin API run first and mail already accepted waits in the queue, as Exim's `queue_only_load` holds deliveries back under load; when they are not, it changes nothing. 0: every process alike.",
    integer(0, 19),
    both('10'),
  ),
  ALL_IN_ONE_CHILD: variable(
    "Set by `all-in-one`'s supervisor in each process it runs, to that child's name (`mx`, `delivery-2`): every JSON log line of the process says it as `child`. Not for setting by hand.",
    z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'expected a child name such as delivery-2'),
    {},
  ),
  ADMIN_TOKEN: variable(
    'Bootstrap API token accepted by `admin-api` (at least 24 characters). Unset: only tokens created through the API.',
    z.string().min(24, 'must be at least 24 characters'),
    {},
    true,
  ),
  METRICS_TOKEN: variable(
    'When set (at least 24 characters), `/metrics` answers only with `Authorization: Bearer <token>` (401 otherwise); `/healthz` and `/readyz` stay open for probes. Unset: `/metrics` is open.',
    z.string().min(24, 'must be at least 24 characters'),
    {},
    true,
  ),
  MESSAGE_SIZE_LIMIT: variable(
    'Largest message accepted, in bytes, advertised as SIZE (RFC 1870); larger ones get 552 5.3.4.',
    integer(1024, 2 ** 31 - 1),
    both(String(25 * 1024 * 1024)),
  ),
  SMTP_COMMAND_TIMEOUT_MS: variable(
    'mx and submission: a whole command line must arrive within this long of our last reply (ms; RFC 5321 §4.5.3.2.7), however slowly it trickles in; then 421 4.4.2.',
    integer(100, 3_600_000),
    both('300000'),
  ),
  SMTP_DATA_TIMEOUT_MS: variable(
    'mx and submission: inside DATA/BDAT the client must send more within this long (ms; RFC 5321 §4.5.3.2.5), counted down while it sends slower than SMTP_MIN_DATA_RATE; then 421 4.4.2.',
    integer(100, 3_600_000),
    both('180000'),
  ),
  SMTP_MIN_DATA_RATE: variable(
    "Octets per second of message data that keep SMTP_DATA_TIMEOUT_MS from running out (Postfix's smtpd_min_data_rate); 0: any data restarts it.",
    integer(0, 1_000_000_000),
    both('500'),
  ),
  SMTP_DATA_PHASE_TIMEOUT_MS: variable(
    'mx and submission: a whole message body (from 354 or the first BDAT to its end) must arrive within this long (ms); then 421 4.4.2. 0: no limit.',
    integer(0, 86_400_000),
    both('1200000'),
  ),
  MAX_RECIPIENTS: variable(
    'Recipients per message; one more gets 452 4.5.3 (RFC 5321 §4.5.3.1.8 asks for at least 100).',
    integer(100, 100_000),
    both('1000'),
  ),
  SMTP_BARE_NEWLINE: variable(
    "What mx and submission do with a bare LF in message content, DATA and BDAT alike (like Postfix's smtpd_forbid_bare_newline): `normalize` takes it as a line end and stores CRLF, `reject` answers 550 5.5.2. Either way the data ends only at CRLF.CRLF, and a bare CR or a NUL is refused.",
    z.enum(['reject', 'normalize']),
    both('normalize'),
  ),
  MAX_RECEIVED_HEADERS: variable(
    'More `Received:` header fields than this is taken as a mail loop: 554 5.4.6 (RFC 5321 §6.3).',
    integer(1, 1000),
    both('50'),
  ),
  SMTP_MAX_CONNECTIONS_PER_IP: variable(
    'Open connections of one client address (an IPv6 client: its /64) to one mx or submission process; one more gets `421 4.7.0` at connect and is closed. 0: no limit.',
    integer(0, 100_000),
    both('50'),
  ),
  RETRY_FIRST_MS: variable(
    'Delay before the second attempt at a recipient that got a temporary failure (ms); each later delay doubles (±10 % jitter) up to `RETRY_MAX_MS`.',
    integer(1000, 7 * 86_400_000),
    both(String(5 * 60_000)),
  ),
  RETRY_MAX_MS: variable(
    'Longest delay between two attempts at a recipient (ms); at least `RETRY_FIRST_MS`.',
    integer(1000, 7 * 86_400_000),
    both(String(4 * 3_600_000)),
  ),
  RETRY_EXPIRE_MS: variable(
    'How long after it was received a message is tried (ms); recipients still undelivered then fail with 4.4.7 and a DSN (RFC 3464). Default 5 days.',
    integer(60_000, 60 * 86_400_000),
    both(String(5 * 86_400_000)),
  ),
  ALIAS_MAX_DEPTH: variable(
    'Aliases followed at most when an alias targets another alias (the alias given is the first); deeper, like a loop, gets 550 5.4.6 at RCPT.',
    integer(1, 100),
    both('10'),
  ),
  SRS_SECRET: variable(
    'Key of the Sender Rewriting Scheme: mail forwarded by an alias to an outside address leaves with an SRS0 envelope sender signed with it, and bounces to SRS addresses are checked with it (at least 16 characters; the same on every replica). Unset: forwarded mail keeps its sender and SRS addresses are unknown users.',
    z.string().min(16, 'must be at least 16 characters'),
    {},
    true,
  ),
  SRS_DOMAIN: variable(
    'Domain of the SRS addresses; its MX must reach our mx. Unset: the domain of MTA_HOSTNAME (`example.org` for `mx.example.org`; MTA_HOSTNAME itself when it has two labels).',
    z
      .string()
      .regex(/^[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/, 'expected a domain name such as example.org')
      .transform((value) => value.toLowerCase()),
    {},
  ),
  INTAKE_FLOW_TARGET_MS: variable(
    'Flow control of mx and submission: while the process is busy and the 90th percentile of the wait for the 250 after data exceeds its usual minimum by more than this (ms), new transactions wait at MAIL FROM. 0 turns it off.',
    integer(0, 10_000),
    both('6'),
  ),
  INTAKE_FLOW_MAX_DELAY_MS: variable(
    "Longest wait of one MAIL FROM under flow control (ms); then the transaction goes ahead anyway, as with Postfix's in_flow_delay.",
    integer(0, 60_000),
    both('1000'),
  ),
  SMTP_DRAIN_MS: variable(
    'On SIGTERM, how long mx and submission keep listening and answer new connections with 421 4.3.2 while open transactions finish (ms), before they close; /readyz is 503 from the start. 0: close at once.',
    integer(0, 20_000),
    { production: '10000', development: '1000' },
  ),
  PROXY_PROTOCOL: variable(
    'Expect a PROXY protocol v1/v2 header on every SMTP connection (behind a load balancer that sends one).',
    flag,
    both('false'),
  ),
  SUBMISSION_HIDE_CLIENT: variable(
    "Leave the submitting client's name and IP address out of the Received header of outgoing mail.",
    flag,
    both('false'),
  ),
  POLICY_INBOUND_CHECKS: variable(
    '`mx` checks SPF, DKIM, ARC and DMARC on incoming mail, adds Authentication-Results and applies DMARC policies (reject, quarantine). `false` turns the checks off (forged Authentication-Results are still removed).',
    flag,
    both('true'),
  ),
  ARC_TRUSTED_SEALERS: variable(
    'Comma-separated domains (mailing lists, forwarders) whose passing ARC seal may override a DMARC failure (RFC 8617 §7.2). Empty: none.',
    parsed(domainList),
    both(''),
  ),
  POLICY_DNS_TIMEOUT_MS: variable(
    'Wait per DNS query of the SPF/DKIM/DMARC/ARC checks, per server and try (ms); no answer is a temporary error (RFC 7208 §8.6).',
    integer(100, 60_000),
    both('5000'),
  ),
  POLICY_TIMEOUT_MS: variable(
    'How long mx and submission wait for the policy service to answer a question (ms); no answer in time is 451 4.7.0 on that command.',
    integer(100, 60_000),
    both('2000'),
  ),
  DNSBL_ZONES: variable(
    "Comma-separated DNS block lists (RFC 5782) asked at connect on mx; a listed client gets 554 5.7.1 with the list's TXT reason. Empty: none.",
    parsed(domainList),
    both(''),
  ),
  DNSWL_ZONES: variable(
    'Comma-separated DNS allow lists (RFC 5782) asked at connect on mx; a listed client skips the block lists and greylisting. Empty: none.',
    parsed(domainList),
    both(''),
  ),
  GREYLISTING: variable(
    'Greylist on mx: an unknown (client /24 or /64, sender, recipient) triplet gets 451 4.7.1 at RCPT until it retries after GREYLIST_DELAY_S.',
    flag,
    both('false'),
  ),
  GREYLIST_DELAY_S: variable(
    'Greylisting: seconds before a retry of a new triplet passes.',
    integer(0, 86_400),
    both('300'),
  ),
  GREYLIST_TTL_DAYS: variable(
    'Greylisting: days a triplet that passed is remembered (from its last pass).',
    integer(1, 3650),
    both('36'),
  ),
  MX_RATE_CONNECTIONS_PER_MIN: variable(
    'Connections per client IP (IPv6: /64) and minute on mx, across replicas; one more gets 421 4.7.0. 0: no limit.',
    integer(0, 1_000_000),
    both('0'),
  ),
  MX_RATE_MESSAGES_PER_MIN: variable(
    'MAIL FROM commands per client IP (IPv6: /64) and minute on mx; one more gets 450 4.7.1. 0: no limit.',
    integer(0, 1_000_000),
    both('0'),
  ),
  MX_RATE_RECIPIENTS_PER_MIN: variable(
    'Accepted-looking RCPT TO commands per client IP (IPv6: /64) and minute on mx; one more gets 450 4.7.1. 0: no limit.',
    integer(0, 1_000_000),
    both('0'),
  ),
  SUBMISSION_MESSAGES_PER_HOUR: variable(
    'Messages per account and hour on submission (default for accounts without their own limit); one more gets 450 4.7.1 at MAIL. 0: no limit.',
    integer(0, 10_000_000),
    both('0'),
  ),
  SUBMISSION_MESSAGES_PER_DAY: variable(
    'Messages per account and day on submission (default); one more gets 450 4.7.1 at MAIL. 0: no limit.',
    integer(0, 10_000_000),
    both('0'),
  ),
  SUBMISSION_RECIPIENTS_PER_HOUR: variable(
    'Recipients per account and hour on submission (default); one more gets 450 4.7.1 at RCPT. 0: no limit.',
    integer(0, 10_000_000),
    both('0'),
  ),
  SUBMISSION_RECIPIENTS_PER_DAY: variable(
    'Recipients per account and day on submission (default); one more gets 450 4.7.1 at RCPT. 0: no limit.',
    integer(0, 10_000_000),
    both('0'),
  ),
  LOG_LEVEL: variable(
    'pino log level.',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    both('info'),
  ),
  ...webhookVariables,
};

export type VariableName = keyof typeof variables;
