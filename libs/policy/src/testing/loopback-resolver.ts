/**
 * The resolver the vector specs hand to the checks: the one mx uses (`createInboundResolver`,
 * over @mta/dns's `createDnsResolve`), asking one loopback DNS server, without a cache so that
 * every scenario's zone is asked afresh, and with a short timeout so that the suites' TIMEOUT
 * entries (SPF temperror) cost a quarter of a second each.
 */
import type { DNSResolver } from 'mailauth';
import { createInboundResolver } from '../inbound';

export type ResolveFn = DNSResolver;

export const loopbackResolver = (server: { host: string; port: number }, timeoutMs = 250): ResolveFn =>
  createInboundResolver({
    servers: [{ host: server.host, port: server.port }],
    timeoutMs,
    tries: 1,
    cache: false,
  });
