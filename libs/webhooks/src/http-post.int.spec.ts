import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson } from './http-post';

/**
 * The guard at connection time: a name is resolved, each address checked, and the socket
 * connects to the checked address (so a name that turns private after creation, DNS rebinding,
 * is refused). `localhost` resolves to loopback through /etc/hosts, no DNS server needed.
 */
describe('postJson', () => {
  let server: http.Server;
  let port: number;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        if (req.url === '/slow') return; // never answers
        res.statusCode = req.url === '/fail' ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const options = { allowPrivate: false, connectTimeoutMs: 1000, responseTimeoutMs: 300 };

  it('refuses a name that resolves to loopback, before connecting', async () => {
    const before = bodies.length;
    const result = await postJson(new URL(`http://localhost:${port}/`), {}, '{}', options);
    expect(result).toMatchObject({
      error: expect.stringMatching(/localhost resolves to a loopback address/),
    });
    expect(bodies.length).toBe(before);
  });

  it('refuses a private IP literal, before connecting', async () => {
    const result = await postJson(new URL(`http://127.0.0.1:${port}/`), {}, '{}', options);
    expect(result).toMatchObject({ error: '127.0.0.1 is a loopback address (WEBHOOK_ALLOW_PRIVATE)' });
  });

  it('with allowPrivate: POSTs the body and returns the status', async () => {
    const allow = { ...options, allowPrivate: true };
    expect(await postJson(new URL(`http://localhost:${port}/ok`), {}, '{"a":1}', allow)).toMatchObject({
      status: 204,
    });
    expect(bodies.at(-1)).toBe('{"a":1}');
    expect(await postJson(new URL(`http://127.0.0.1:${port}/fail`), {}, '{}', allow)).toMatchObject({
      status: 503,
    });
  });

  it('gives up on an answer that does not come within the timeout', async () => {
    const result = await postJson(new URL(`http://127.0.0.1:${port}/slow`), {}, '{}', {
      ...options,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ error: 'no answer within 300 ms' });
  });

  it('says so when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await postJson(new URL(`http://127.0.0.1:${freePort}/`), {}, '{}', {
      ...options,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ error: expect.stringMatching(/ECONNREFUSED/) });
  });
});
