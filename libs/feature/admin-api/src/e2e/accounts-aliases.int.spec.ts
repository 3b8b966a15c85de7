import { beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '@mta/auth';
import { badFields, useAdminApi } from './harness';

const api = useAdminApi();

beforeAll(async () => {
  expect((await api.request('POST', '/api/v1/domains', { body: { name: 'example.com' } })).status).toBe(201);
  expect(
    (await api.request('POST', '/api/v1/domains', { body: { name: 'relayed.example', type: 'relay' } }))
      .status,
  ).toBe(201);
});

describe('accounts', () => {
  it('creates an account; the password is stored as an scrypt hash and never returned', async () => {
    const created = await api.request('POST', '/api/v1/accounts', {
      body: {
        address: 'alice@Example.COM',
        password: 'correct horse battery',
        sendAs: ['alice@example.com', 'sales@example.com', '@Example.com'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      address: 'alice@example.com',
      domain: 'example.com',
      sendAs: ['@example.com', 'alice@example.com', 'sales@example.com'],
      disabled: false,
    });
    expect(created.text).not.toMatch(/password|scrypt|correct horse/i);
    const row = await api.db.account.findUniqueOrThrow({ where: { address: 'alice@example.com' } });
    expect(row.passwordHash).toMatch(/^\$scrypt\$ln=16,r=8,p=1\$/);
    expect(await verifyPassword('correct horse battery', row.passwordHash)).toBe(true);

    const got = await api.request('GET', '/api/v1/accounts/alice@example.com');
    expect(got.status).toBe(200);
    expect(got.text).not.toMatch(/password|scrypt/i);
    const list = await api.request('GET', '/api/v1/accounts');
    expect(list.body.items.map((a: { address: string }) => a.address)).toEqual(['alice@example.com']);
    expect(list.text).not.toMatch(/password|scrypt/i);
  });

  it('updates password, send-as and disabled', async () => {
    const patched = await api.request('PATCH', '/api/v1/accounts/alice@example.com', {
      body: { password: 'a new password', sendAs: ['info@example.com'], disabled: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ sendAs: ['info@example.com'], disabled: true });
    const row = await api.db.account.findUniqueOrThrow({ where: { address: 'alice@example.com' } });
    expect(await verifyPassword('a new password', row.passwordHash)).toBe(true);
    expect(await verifyPassword('correct horse battery', row.passwordHash)).toBe(false);
  });

  it('answers 400 naming bad fields, and for a domain that is not local', async () => {
    const bad = await api.request('POST', '/api/v1/accounts', {
      body: { address: 'nobody', password: 'short', sendAs: ['x'] },
    });
    expect(bad.status).toBe(400);
    expect(badFields(bad).sort()).toEqual(['address', 'password', 'sendAs.0']);
    for (const address of ['bob@unknown.example', 'bob@relayed.example']) {
      const response = await api.request('POST', '/api/v1/accounts', {
        body: { address, password: 'long enough' },
      });
      expect(response.status).toBe(400);
      expect(badFields(response)).toEqual(['address']);
    }
    expect(
      badFields(await api.request('PATCH', '/api/v1/accounts/alice@example.com', { body: { password: 1 } })),
    ).toEqual(['password']);
  });

  it('stores our mailboxes in lower case: a mixed-case address is one account, found whatever its case', async () => {
    const created = await api.request('POST', '/api/v1/accounts', {
      body: {
        address: 'Mixed.Case@example.com',
        password: 'long enough',
        sendAs: ['Sales.Team@Example.com'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      address: 'mixed.case@example.com',
      sendAs: ['sales.team@example.com'],
    });
    expect((await api.request('GET', '/api/v1/accounts/MIXED.case@example.com')).body).toMatchObject({
      address: 'mixed.case@example.com',
    });
    const again = await api.request('POST', '/api/v1/accounts', {
      body: { address: 'mixed.CASE@example.com', password: 'long enough' },
    });
    expect(again.status).toBe(409);
    const alias = await api.request('POST', '/api/v1/aliases', {
      body: { address: 'Team@Example.com', targets: ['MIXED.CASE@example.com', 'Someone@Outside.example'] },
    });
    expect(alias.status).toBe(201);
    expect(alias.body).toMatchObject({
      address: 'team@example.com',
      targets: [
        { address: 'mixed.case@example.com', kind: 'account' },
        // Not ours: an outside local part keeps its case (RFC 5321 §2.4).
        { address: 'Someone@outside.example', kind: 'address' },
      ],
    });
    expect((await api.request('DELETE', '/api/v1/aliases/TEAM@example.com')).status).toBe(204);
    expect((await api.request('DELETE', '/api/v1/accounts/Mixed.Case@example.com')).status).toBe(204);
  });

  it('sets, shows, replaces and clears an account rate limits, stored as the policy service reads them', async () => {
    const created = await api.request('POST', '/api/v1/accounts', {
      body: { address: 'limited@example.com', password: 'long enough', rateLimits: { messagesPerHour: 10 } },
    });
    expect(created.status).toBe(201);
    expect(created.body.rateLimits).toEqual({
      messagesPerHour: 10,
      messagesPerDay: null,
      recipientsPerHour: null,
      recipientsPerDay: null,
    });
    const row = () => api.db.account.findUniqueOrThrow({ where: { address: 'limited@example.com' } });
    expect((await row()).rateLimits).toEqual({ messagesPerHour: 10 });
    const patched = await api.request('PATCH', '/api/v1/accounts/limited@example.com', {
      body: { rateLimits: { recipientsPerDay: 0, messagesPerHour: null } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.rateLimits).toMatchObject({ messagesPerHour: null, recipientsPerDay: 0 });
    expect((await row()).rateLimits).toEqual({ recipientsPerDay: 0 });
    // Other changes keep the limits; null clears them all.
    await api.request('PATCH', '/api/v1/accounts/limited@example.com', { body: { disabled: false } });
    expect((await row()).rateLimits).toEqual({ recipientsPerDay: 0 });
    await api.request('PATCH', '/api/v1/accounts/limited@example.com', { body: { rateLimits: null } });
    expect((await row()).rateLimits).toBeNull();
    expect((await api.request('GET', '/api/v1/accounts/limited@example.com')).body.rateLimits).toEqual({
      messagesPerHour: null,
      messagesPerDay: null,
      recipientsPerHour: null,
      recipientsPerDay: null,
    });
  });

  it('answers 400 for rate limits that are not whole numbers from 0 to 10000000, or unknown', async () => {
    for (const [rateLimits, field] of [
      [{ messagesPerHour: -1 }, 'rateLimits.messagesPerHour'],
      [{ messagesPerDay: 1.5 }, 'rateLimits.messagesPerDay'],
      [{ recipientsPerHour: '5' }, 'rateLimits.recipientsPerHour'],
      [{ recipientsPerDay: 10_000_001 }, 'rateLimits.recipientsPerDay'],
    ] as const) {
      const response = await api.request('PATCH', '/api/v1/accounts/limited@example.com', {
        body: { rateLimits },
      });
      expect(response.status).toBe(400);
      expect(badFields(response)).toEqual([field]);
    }
    const unknown = await api.request('PATCH', '/api/v1/accounts/limited@example.com', {
      body: { rateLimits: { bytesPerHour: 1 } },
    });
    expect(unknown.status).toBe(400);
    const atMax = await api.request('PATCH', '/api/v1/accounts/limited@example.com', {
      body: { rateLimits: { recipientsPerDay: 10_000_000 } },
    });
    expect(atMax.status).toBe(200);
    expect((await api.request('DELETE', '/api/v1/accounts/limited@example.com')).status).toBe(204);
  });

  it('answers 409 for a duplicate and 404 for an unknown account', async () => {
    const dup = await api.request('POST', '/api/v1/accounts', {
      body: { address: 'alice@example.com', password: 'long enough' },
    });
    expect(dup.status).toBe(409);
    expect((await api.request('GET', '/api/v1/accounts/carol@example.com')).status).toBe(404);
    expect(
      (await api.request('PATCH', '/api/v1/accounts/carol@example.com', { body: { disabled: true } })).status,
    ).toBe(404);
    expect((await api.request('DELETE', '/api/v1/accounts/carol@example.com')).status).toBe(404);
  });

  it('keeps a domain with accounts from being deleted or turned into a relay domain', async () => {
    expect((await api.request('DELETE', '/api/v1/domains/example.com')).status).toBe(409);
    expect(
      (await api.request('PATCH', '/api/v1/domains/example.com', { body: { type: 'relay' } })).status,
    ).toBe(409);
  });
});

describe('aliases', () => {
  it('creates an alias to an account and an outside address', async () => {
    const created = await api.request('POST', '/api/v1/aliases', {
      body: { address: 'team@example.com', targets: ['alice@example.com', 'partner@elsewhere.example'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      address: 'team@example.com',
      targets: [
        { address: 'alice@example.com', kind: 'account' },
        { address: 'partner@elsewhere.example', kind: 'address' },
      ],
    });
    expect((await api.request('GET', '/api/v1/aliases/team@example.com')).body.address).toBe(
      'team@example.com',
    );
    const list = await api.request('GET', '/api/v1/aliases?limit=10');
    expect(list.body).toMatchObject({ items: [{ address: 'team@example.com' }], nextCursor: null });
  });

  it('answers 400, 404 and 409', async () => {
    const bad = await api.request('POST', '/api/v1/aliases', {
      body: { address: 'x@example.com', targets: [] },
    });
    expect(badFields(bad)).toEqual(['targets']);
    expect(
      badFields(
        await api.request('POST', '/api/v1/aliases', {
          body: { address: 'x@nowhere.example', targets: ['a@b.example'] },
        }),
      ),
    ).toEqual(['address']);
    expect(
      (
        await api.request('POST', '/api/v1/aliases', {
          body: { address: 'team@example.com', targets: ['a@b.example'] },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await api.request('POST', '/api/v1/aliases', {
          body: { address: 'alice@example.com', targets: ['a@b.example'] },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await api.request('POST', '/api/v1/accounts', {
          body: { address: 'team@example.com', password: 'long enough' },
        })
      ).status,
    ).toBe(409);
    expect((await api.request('GET', '/api/v1/aliases/none@example.com')).status).toBe(404);
    expect((await api.request('DELETE', '/api/v1/aliases/none@example.com')).status).toBe(404);
  });

  it('deletes an account (leaving its aliases) and an alias', async () => {
    expect((await api.request('DELETE', '/api/v1/accounts/alice@example.com')).status).toBe(204);
    const alias = await api.request('GET', '/api/v1/aliases/team@example.com');
    expect(alias.body.targets).toEqual([{ address: 'partner@elsewhere.example', kind: 'address' }]);
    expect((await api.request('DELETE', '/api/v1/aliases/team@example.com')).status).toBe(204);
    expect((await api.request('DELETE', '/api/v1/domains/example.com')).status).toBe(204);
  });
});

// That an account made here can log in to `submission` and send is checked end to end, with
// every module in one process, in apps/all-in-one/src/main.e2e.spec.ts.
