import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenReason, hostOf } from './address-guard';

export interface PostOptions {
  /** Connect to private, loopback and link-local addresses too (WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Longest wait for the TCP (and TLS) connection, ms. */
  connectTimeoutMs: number;
  /** Longest wait for the whole answer (after the connect timeout), ms. */
  responseTimeoutMs: number;
}

export type PostResult = { status: number; latencyMs: number } | { error: string; latencyMs: number };

/** Answers read at most: we only need the status; the body is read and dropped. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * A `lookup` for the connection that resolves the name and checks every address it returns
 * before the socket connects: the address connected to is the address checked, so a name that
 * answers a public address to a first lookup and 127.0.0.1 to a second (DNS rebinding) gains
 * nothing.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = allowPrivate ? addresses : addresses.filter((a) => !forbiddenReason(a.address));
      if (allowed.length === 0) {
        const reason = forbiddenReason(addresses[0]?.address ?? '') ?? 'no address';
        const error = Object.assign(
          new Error(`${hostname} resolves to a ${reason} address (WEBHOOK_ALLOW_PRIVATE)`),
          {
            code: 'EWEBHOOKADDRESS',
          },
        );
        return callback(error, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

const agents = new Map<string, http.Agent>();

/** Keep-alive agents per (scheme, allowPrivate), each with the guarded lookup. */
function agentFor(url: URL, allowPrivate: boolean): http.Agent {
  const key = `${url.protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 16, lookup: guardedLookup(allowPrivate) };
    agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

/** POSTs a JSON body; the status code, or what went wrong (never the headers or the body). */
export function postJson(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const host = hostOf(url);
  // An IP literal is not looked up, so check it here (names: guardedLookup).
  const literal = isIP(host) && !options.allowPrivate ? forbiddenReason(host) : null;
  if (literal)
    return Promise.resolve({
      error: `${host} is a ${literal} address (WEBHOOK_ALLOW_PRIVATE)`,
      latencyMs: 0,
    });
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(deadline);
      resolve(result);
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      agent: agentFor(url, options.allowPrivate),
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const connectTimer = setTimeout(() => {
      if (!request.socket || request.socket.connecting)
        request.destroy(new Error(`no connection within ${options.connectTimeoutMs} ms`));
    }, options.connectTimeoutMs);
    // The whole answer, however slowly it trickles in, within the response timeout of connecting.
    let deadline: NodeJS.Timeout | undefined;
    const startDeadline = () => {
      clearTimeout(connectTimer);
      deadline = setTimeout(
        () => request.destroy(new Error(`no answer within ${options.responseTimeoutMs} ms`)),
        options.responseTimeoutMs,
      );
    };
    request.on('socket', (socket) =>
      socket.connecting ? socket.once('connect', startDeadline) : startDeadline(),
    );
    request.on('error', (err: NodeJS.ErrnoException) =>
      done({ error: err.message || err.code || 'error', latencyMs: elapsed() }),
    );
    request.on('response', (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) response.destroy();
      });
      response.on('error', () => undefined);
      response.on('close', () => done({ status: response.statusCode ?? 0, latencyMs: elapsed() }));
    });
    request.end(body);
  });
}
