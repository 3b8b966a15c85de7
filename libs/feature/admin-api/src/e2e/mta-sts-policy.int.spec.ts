/**
 * The MTA-STS policy host of our local domains (RFC 8461 §3.3), served by the admin API and
 * routed by the Host header; fetched with curl (a real HTTP client), parsed by mailauth's
 * RFC-exact parser, and its id checked against the `_mta-sts` TXT record the API publishes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { parsePolicy } from 'mailauth/lib/mta-sts';
import { describe, expect, it } from 'vitest';
import { badFields, useAdminApi } from './harness';

const api = useAdminApi();

/** GET /.well-known/mta-sts.txt with `Host: <host>` (curl, asynchronously: the API is in this process). */
async function fetchPolicy(host: string): Promise<{ status: number; type: string; body: string }> {
  const { stdout: out } = await promisify(execFile)(
    'curl',
    [
      '-s',
      '-H',
      `Host: ${host}`,
      '-w',
      '\n%{http_code} %{content_type}',
      `${api.base}/.well-known/mta-sts.txt`,
    ],
    { encoding: 'utf8' },
  );
  const i = out.lastIndexOf('\n');
  const [status, type] = out.slice(i + 1).split(' ');
  return { status: Number(status), type, body: out.slice(0, i) };
}

const txtId = async (domain: string): Promise<string | undefined> => {
  const dns = await api.request('GET', `/api/v1/domains/${domain}/dns`);
  const record = dns.body.records.find((r: { purpose: string }) => r.purpose === 'mta-sts');
  return /id=([A-Za-z0-9]+)/.exec(record?.value ?? '')?.[1];
};

describe('MTA-STS policy host (RFC 8461 §3.3)', () => {
  it('serves the policy of a local domain as text/plain, built from its settings, without a token', async () => {
    await api.request('POST', '/api/v1/domains', { body: { name: 'sts.example' } });
    const served = await fetchPolicy('MTA-STS.sts.example:443');
    expect(served.status).toBe(200);
    expect(served.type).toMatch(/^text\/plain/);
    expect(parsePolicy(served.body, { strict: true })).toEqual({
      mode: 'testing',
      version: 'STSv1',
      mx: ['mx.test.example'],
      maxAge: 86400,
    });
    const id = createHash('sha256').update(served.body).digest('hex').slice(0, 20);
    expect(await txtId('sts.example')).toBe(id);
  });

  it('changes the policy and the TXT id together when the settings change', async () => {
    await api.request('POST', '/api/v1/domains', { body: { name: 'enforced.example' } });
    const before = await txtId('enforced.example');
    const patched = await api.request('PATCH', '/api/v1/domains/enforced.example', {
      body: { mtaSts: { mode: 'enforce', mx: ['backup.enforced.example', '*.pool.enforced.example'] } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.mtaSts).toEqual({
      mode: 'enforce',
      mx: ['backup.enforced.example', '*.pool.enforced.example'],
    });
    const served = await fetchPolicy('mta-sts.enforced.example');
    expect(parsePolicy(served.body, { strict: true })).toMatchObject({
      mode: 'enforce',
      mx: ['mx.test.example', 'backup.enforced.example', '*.pool.enforced.example'],
      maxAge: 604800,
    });
    const after = await txtId('enforced.example');
    expect(after).not.toBe(before);
    expect(after).toBe(createHash('sha256').update(served.body).digest('hex').slice(0, 20));
    const dns = await api.request('GET', '/api/v1/domains/enforced.example/dns');
    expect(dns.body.mtaStsPolicy).toBe(served.body);
  });

  it('answers 404 for relay domains, unknown domains and other hosts', async () => {
    await api.request('POST', '/api/v1/domains', { body: { name: 'relayed.example', type: 'relay' } });
    for (const host of ['mta-sts.relayed.example', 'mta-sts.unknown.example', 'sts.example', '127.0.0.1'])
      expect((await fetchPolicy(host)).status, host).toBe(404);
  });

  it('takes at most 10 extra MX names, each a host name or *. pattern', async () => {
    await api.request('POST', '/api/v1/domains', { body: { name: 'many.example' } });
    const mx = (n: number) => Array.from({ length: n }, (_, i) => `mx${i}.many.example`);
    const ok = await api.request('PATCH', '/api/v1/domains/many.example', {
      body: { mtaSts: { mode: 'testing', mx: mx(10) } },
    });
    expect(ok.status).toBe(200);
    for (const bad of [mx(11), ['not a host'], ['*.*.many.example'], ['mx.many.example.']]) {
      const r = await api.request('PATCH', '/api/v1/domains/many.example', {
        body: { mtaSts: { mode: 'testing', mx: bad } },
      });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(badFields(r)[0]).toMatch(/^mtaSts\.mx/);
    }
  });
});
