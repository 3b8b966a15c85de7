import { createPublicKey, sign, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { badFields, useAdminApi } from './harness';

const api = useAdminApi();

describe('domains', () => {
  it('creates, reads, lists, updates and deletes a domain', async () => {
    const created = await api.request('POST', '/api/v1/domains', {
      body: { name: 'Example.COM.', type: 'local' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'example.com', type: 'local', acceptAll: false });

    expect((await api.request('GET', '/api/v1/domains/example.com')).body.name).toBe('example.com');
    const patched = await api.request('PATCH', '/api/v1/domains/example.com', { body: { acceptAll: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.acceptAll).toBe(true);

    const list = await api.request('GET', '/api/v1/domains');
    expect(list.body).toMatchObject({ items: [{ name: 'example.com' }], nextCursor: null });

    expect((await api.request('DELETE', '/api/v1/domains/example.com')).status).toBe(204);
    expect((await api.request('GET', '/api/v1/domains/example.com')).status).toBe(404);
  });

  it('switches greylisting per domain: true, false, or null for the GREYLISTING setting', async () => {
    const created = await api.request('POST', '/api/v1/domains', { body: { name: 'grey.example' } });
    expect(created.body.greylisting).toBeNull();
    const on = await api.request('PATCH', '/api/v1/domains/grey.example', { body: { greylisting: true } });
    expect(on.status).toBe(200);
    expect(on.body.greylisting).toBe(true);
    // Stored as the mx side reads it (PrismaDomainGreylisting in @mta/policy).
    const row = () => api.db.domain.findUniqueOrThrow({ where: { name: 'grey.example' } });
    expect((await row()).greylisting).toBe(true);
    await api.request('PATCH', '/api/v1/domains/grey.example', { body: { acceptAll: true } });
    expect((await row()).greylisting).toBe(true);
    await api.request('PATCH', '/api/v1/domains/grey.example', { body: { greylisting: null } });
    expect((await row()).greylisting).toBeNull();
    const bad = await api.request('PATCH', '/api/v1/domains/grey.example', { body: { greylisting: 'yes' } });
    expect(bad.status).toBe(400);
    expect(badFields(bad)).toEqual(['greylisting']);
    expect((await api.request('DELETE', '/api/v1/domains/grey.example')).status).toBe(204);
  });

  it('answers 400 naming each bad field', async () => {
    const response = await api.request('POST', '/api/v1/domains', {
      body: { name: 'not a domain', type: 'mailbox', extra: 1 },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(badFields(response)).toEqual(expect.arrayContaining(['name', 'type']));
  });

  it('answers 409 for a duplicate and 404 for an unknown domain', async () => {
    expect((await api.request('POST', '/api/v1/domains', { body: { name: 'dup.example' } })).status).toBe(
      201,
    );
    const dup = await api.request('POST', '/api/v1/domains', { body: { name: 'DUP.example' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('conflict');
    expect((await api.request('PATCH', '/api/v1/domains/nope.example', { body: {} })).status).toBe(404);
    expect((await api.request('DELETE', '/api/v1/domains/nope.example')).status).toBe(404);
    expect((await api.request('GET', '/api/v1/domains/nope.example')).status).toBe(404);
  });

  it('answers 400 for a bad name in the path or a bad change', async () => {
    expect(badFields(await api.request('GET', '/api/v1/domains/not_a_domain'))).toEqual(['name']);
    expect(badFields(await api.request('DELETE', '/api/v1/domains/not_a_domain'))).toEqual(['name']);
    const patch = await api.request('PATCH', '/api/v1/domains/dup.example', {
      body: { type: 'mailbox', acceptAll: 'yes' },
    });
    expect(badFields(patch).sort()).toEqual(['acceptAll', 'type']);
    const relayAll = await api.request('POST', '/api/v1/domains', {
      body: { name: 'r.example', type: 'relay', acceptAll: true },
    });
    expect(badFields(relayAll)).toEqual(['acceptAll']);
    const invalidJson = await api.request('POST', '/api/v1/domains', { body: '{"name":' });
    expect(invalidJson.status).toBe(400);
    expect(invalidJson.body.error).toMatchObject({ status: 400, code: 'bad_request' });
    const huge = await api.request('POST', '/api/v1/domains', { body: { name: 'x'.repeat(200_000) } });
    expect(huge.body.error).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('refuses without a valid token, and changes nothing', async () => {
    const none = await api.request('POST', '/api/v1/domains', {
      body: { name: 'sneaky.example' },
      token: null,
    });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await api.request('POST', '/api/v1/domains', {
      body: { name: 'sneaky.example' },
      token: 'mta_aaaaaaaa_' + 'x'.repeat(43),
    });
    expect(wrong.status).toBe(401);
    expect(await api.db.domain.count({ where: { name: 'sneaky.example' } })).toBe(0);
  });
});

describe('domain pagination', () => {
  it('walks every domain in name order with limit and cursor', async () => {
    const names = ['p1.example', 'p2.example', 'p3.example', 'p4.example', 'p5.example'];
    for (const name of names)
      expect((await api.request('POST', '/api/v1/domains', { body: { name } })).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = await api.request('GET', `/api/v1/domains?limit=2${query}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((d: { name: string }) => d.name));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(seen.filter((n) => n.startsWith('p'))).toEqual(names);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('answers 400 for a bad limit or cursor', async () => {
    expect(badFields(await api.request('GET', '/api/v1/domains?limit=0'))).toEqual(['limit']);
    expect(badFields(await api.request('GET', '/api/v1/domains?cursor=garbage'))).toEqual(['cursor']);
  });
});

describe('DKIM keys and DNS records', () => {
  beforeAll(async () => {
    expect((await api.request('POST', '/api/v1/domains', { body: { name: 'signed.example' } })).status).toBe(
      201,
    );
  });

  it('generates an RSA key whose TXT record holds the public half of the stored key', async () => {
    const created = await api.request('POST', '/api/v1/domains/signed.example/dkim', { body: {} });
    expect(created.status).toBe(201);
    expect(created.text).not.toMatch(/PRIVATE|privateKey/);
    const { selector, algorithm, dnsName, txt } = created.body;
    expect(algorithm).toBe('rsa');
    expect(selector).toMatch(/^mta\d{6}[0-9a-f]{4}$/);
    expect(dnsName).toBe(`${selector}._domainkey.signed.example`);
    expect(txt.length).toBeGreaterThan(1);
    for (const part of txt) expect(part.length).toBeLessThanOrEqual(255);
    const record: string = txt.join('');
    expect(record).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/);

    const stored = await api.db.dkimKey.findFirstOrThrow({ where: { selector } });
    const publicKey = createPublicKey({
      key: Buffer.from(record.split('p=')[1], 'base64'),
      format: 'der',
      type: 'spki',
    });
    const signature = sign('sha256', Buffer.from('data'), stored.privateKey);
    expect(verify('sha256', Buffer.from('data'), publicKey, signature)).toBe(true);
  });

  it('generates an Ed25519 key with a chosen selector (RFC 8463: p= is the raw 32-byte key)', async () => {
    const created = await api.request('POST', '/api/v1/domains/signed.example/dkim', {
      body: { algorithm: 'ed25519', selector: 'ed2026' },
    });
    expect(created.status).toBe(201);
    const p = created.body.txt.join('').match(/^v=DKIM1; k=ed25519; p=(.+)$/)[1];
    expect(Buffer.from(p, 'base64')).toHaveLength(32);
    expect(created.body.record).toBe(
      `ed2026._domainkey.signed.example.\t3600\tIN\tTXT\t"${created.body.txt[0]}"`,
    );
  });

  it('answers 409 for a taken selector, 404 for an unknown domain, 400 for bad input', async () => {
    const body = { algorithm: 'ed25519', selector: 'ed2026' };
    expect((await api.request('POST', '/api/v1/domains/signed.example/dkim', { body })).status).toBe(409);
    expect((await api.request('POST', '/api/v1/domains/unknown.example/dkim', { body: {} })).status).toBe(
      404,
    );
    const bad = await api.request('POST', '/api/v1/domains/signed.example/dkim', {
      body: { algorithm: 'dsa', selector: 'no_way!' },
    });
    expect(bad.status).toBe(400);
    expect(badFields(bad).sort()).toEqual(['algorithm', 'selector']);
  });

  it('lists every record to publish, also as zone text', async () => {
    const dns = await api.request('GET', '/api/v1/domains/signed.example/dns');
    expect(dns.status).toBe(200);
    const purposes = dns.body.records.map((r: { purpose: string }) => r.purpose);
    expect(purposes).toEqual(['mx', 'spf', 'dkim', 'dkim', 'dmarc', 'mta-sts', 'tls-rpt']);
    const zone: string = dns.body.zone;
    expect(zone).toContain('signed.example.\t3600\tIN\tMX\t10 mx.test.example.');
    expect(zone).toContain('"v=spf1 mx a:mx.test.example ~all"');
    expect(zone).toContain('ed2026._domainkey.signed.example.\t3600\tIN\tTXT\t"v=DKIM1; k=ed25519; p=');
    expect(zone).toContain('_dmarc.signed.example.');
    expect(zone).toContain('_mta-sts.signed.example.');
    expect(zone).toContain('_smtp._tls.signed.example.');
    expect(dns.body.mtaStsPolicy).toContain('mx: mx.test.example');
    expect((await api.request('GET', '/api/v1/domains/unknown.example/dns')).status).toBe(404);
  });

  it('lists and deletes keys', async () => {
    const list = await api.request('GET', '/api/v1/domains/signed.example/dkim');
    expect(list.body.items.map((k: { selector: string }) => k.selector)).toContain('ed2026');
    expect(list.text).not.toMatch(/PRIVATE|privateKey/);
    expect((await api.request('DELETE', '/api/v1/domains/signed.example/dkim/ed2026')).status).toBe(204);
    expect((await api.request('DELETE', '/api/v1/domains/signed.example/dkim/ed2026')).status).toBe(404);
    expect((await api.request('GET', '/api/v1/domains/unknown.example/dkim')).status).toBe(404);
    expect(badFields(await api.request('GET', '/api/v1/domains/signed.example/dkim?limit=x'))).toEqual([
      'limit',
    ]);
  });
});
