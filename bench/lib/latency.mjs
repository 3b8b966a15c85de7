// The latency-bound mode of bench/e2e (issue 21): many destination domains, each with its own MX
// name on its own loopback address, all served by one slow sink (delay-sink.mjs) on one port,
// so that delivery is bound by concurrency / latency and not by CPU.
import { execFileSync } from 'node:child_process';
import { fmt } from './numbers.mjs';

/** `n` destinations: { domain, mx, address } with d<i>.<parent>, mx.d<i>.<parent>, 127.1.x.y. */
export function latencyDestinations(n, parent) {
  return Array.from({ length: n }, (_, i) => ({
    domain: `d${i + 1}.${parent}`,
    mx: `mx.d${i + 1}.${parent}`,
    address: `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  }));
}

/** dnsmasq options: an MX and an A record per destination (the zone's SOA comes from --auth-zone). */
export const dnsmasqRecords = (destinations) =>
  destinations.flatMap((d) => [`--mx-host=${d.domain},${d.mx},10`, `--host-record=${d.mx},${d.address}`]);

/**
 * main.cf lines for Postfix: the destinations are relay domains, each sent to its sink address
 * by an inline transport map (Postfix asks the system resolver, which cannot be pointed at a DNS
 * server on a high port: an explicit next hop per domain is the same route without the lookup).
 */
export const postfixRelayLines = (destinations, port) =>
  `relay_domains = ${destinations.map((d) => d.domain).join(' ')}
transport_maps = inline:{ ${destinations.map((d) => `${d.domain}=smtp:[${d.address}]:${port}`).join(', ')} }
`;

/** Postfix's defaults that bound its delivery concurrency, from `postconf -d`. */
export function postfixConcurrency() {
  const names = [
    'default_process_limit',
    'default_destination_concurrency_limit',
    'initial_destination_concurrency',
  ];
  const out = execFileSync('/usr/sbin/postconf', ['-d', ...names], { encoding: 'utf8' });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(' = '))
      .map(([k, v]) => [k, Number(v)]),
  );
}

/** Replies a delivery needs at the least on a reused session with PIPELINING: MAIL, RCPT, DATA, the dot. */
export const MIN_REPLIES = 4;

/**
 * The rate the configured concurrency allows: deliveries in flight at once (capped by the
 * per-destination limit × destinations) divided by the time of one transaction
 * (`replies` × `delayMs`).
 */
export function bound({ concurrency, perDestination, destinations, replies = MIN_REPLIES, delayMs }) {
  const inFlight = Math.min(concurrency, perDestination * destinations);
  return { inFlight, rate: inFlight / ((replies * delayMs) / 1000) };
}

/** The sink's replies per measured message, by command: "MAIL 1.00, RCPT 1.00, ..., CONNECT 0.01". */
export function repliesPerMessage(before, after, messages) {
  const keys = Object.keys(after.replies);
  const per = Object.fromEntries(
    keys.map((k) => [k, ((after.replies[k] ?? 0) - (before.replies[k] ?? 0)) / messages]),
  );
  const total = Object.values(per).reduce((a, b) => a + b, 0);
  return {
    total,
    connections: (after.connections - before.connections) / messages,
    text: keys.map((k) => `${k} ${fmt(per[k], 2)}`).join(', '),
  };
}

/** Prints the latency table: measured rates against the bound of each row's concurrency. */
export function printLatencyTable(rows, { destinations, delayMs, concurrency, perDestination, postfix }) {
  console.log(
    `\nLatency-bound: ${destinations} destination domains (each its own MX name and loopback address), one sink that waits ${delayMs} ms before every reply. ` +
      `Bound = deliveries in flight / (${MIN_REPLIES} replies × ${delayMs} ms): in flight = delivery workers × DELIVERY_CONCURRENCY ${concurrency} for ours ` +
      `(per-destination limit ${perDestination} × ${destinations} destinations does not bind), ` +
      `min(default_process_limit ${postfix.default_process_limit}, default_destination_concurrency_limit ${postfix.default_destination_concurrency_limit} × ${destinations}) for Postfix ` +
      `(initial_destination_concurrency ${postfix.initial_destination_concurrency}). ` +
      `"steady": messages 10 % → 90 % of the run; "after accept": from the end of the submission to the last message (delivery alone, ` +
      `n/a if less than a fifth was left); "at measured replies": the bound with the replies per message the sink counted.\n`,
  );
  console.log(
    '| system | in flight | bound msg/s | end-to-end msg/s | steady msg/s | after accept msg/s | steady / bound | after accept / bound | ' +
      'replies per message (sink) | bound at measured replies | steady / that | after accept / that | connections per message |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
  const pc = (x, of) => (Number.isFinite(x) ? `${fmt((100 * x) / of)} %` : 'n/a');
  for (const { label, run: r, inFlightConfigured } of rows) {
    const b = bound({
      concurrency: inFlightConfigured,
      perDestination: r.perDestination,
      destinations,
      delayMs,
    });
    const measured = bound({
      concurrency: inFlightConfigured,
      perDestination: r.perDestination,
      destinations,
      delayMs,
      replies: r.replies.total,
    });
    console.log(
      `| ${label} | ${b.inFlight} | ${fmt(b.rate, 1)} | ${fmt(r.rate, 1)} | ${fmt(r.steadyRate, 1)} | ${fmt(r.afterAcceptRate, 1)} | ` +
        `${pc(r.steadyRate, b.rate)} | ${pc(r.afterAcceptRate, b.rate)} | ${fmt(r.replies.total, 2)}: ${r.replies.text} | ${fmt(measured.rate, 1)} | ` +
        `${pc(r.steadyRate, measured.rate)} | ${pc(r.afterAcceptRate, measured.rate)} | ${fmt(r.replies.connections, 3)} |`,
    );
  }
  const run = (w) => rows.find((r) => r.run.kind === 'ours' && r.run.workers === w)?.run;
  if (run(1) && run(2))
    console.log(
      `\nours(2)/ours(1): steady ${fmt(run(2).steadyRate / run(1).steadyRate, 2)}×, ` +
        `after accept ${fmt(run(2).afterAcceptRate / run(1).afterAcceptRate, 2)}×, end to end ${fmt(run(2).rate / run(1).rate, 2)}×`,
    );
}

/** The run's description line in latency mode. */
export function printLatencyHeader(o) {
  console.log(
    `${fmt(o.messages)} messages of ${fmt(o.size)} bytes, 1 recipient each, message i to rcpt@d<i mod ${o.latency.destinations}>.bench.example ` +
      `(relay domains), from our SMTP load client (bench/lib/smtp-load.mjs, ${o.sessions} sessions); ${o.warmup} warm-up messages ` +
      `(one per domain) delivered first (not counted); ${o.runs} run(s) per row, median shown. End to end: start of the submission → the sink's ` +
      `${fmt(o.messages)}th message. Every system gets a fresh delay sink (bench/lib/delay-sink-server.mjs, ${o.latency.delayMs} ms before every reply) ` +
      `on ${o.latency.destinations} loopback addresses.`,
  );
}
