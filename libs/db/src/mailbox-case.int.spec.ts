/**
 * The migration that puts our mailboxes in lower case (20261207153000_mailbox_addresses_lower_case),
 * run on rows written before it: by an older API that kept the case it was given.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from './migrate';
import { freshDatabases, migrationsDir, sql } from './spec-helpers';

const freshDatabaseUrl = freshDatabases();
const script = readFileSync(
  path.join(migrationsDir, '20261207153000_mailbox_addresses_lower_case/migration.sql'),
  'utf8',
);

describe('mailbox addresses in lower case (migration)', () => {
  const url = freshDatabaseUrl();
  let domainId: string;

  beforeAll(async () => {
    await migrateDatabase(url);
    [{ id: domainId }] = await sql<{ id: string }>(
      url,
      `INSERT INTO domains (name, updated_at) VALUES ('example.org', now()) RETURNING id`,
    );
  });

  const account = async (address: string) =>
    (
      await sql<{ id: string }>(
        url,
        `INSERT INTO accounts (address, password_hash, domain_id, updated_at) VALUES ($1, 'x', $2, now()) RETURNING id`,
        [address, domainId],
      )
    )[0].id;

  it('lower-cases accounts, aliases and send-as entries, keeping one of send-as entries that differ only in case', async () => {
    const alice = await account('Alice@example.org');
    await sql(
      url,
      `INSERT INTO aliases (address, domain_id, updated_at) VALUES ('Sales@example.org', $1, now())`,
      [domainId],
    );
    await sql(
      url,
      `INSERT INTO account_send_as (account_id, address) VALUES ($1, 'Info@example.org'), ($1, 'info@example.org'),
              ($1, 'Team@example.org'), ($1, 'TEAM@example.org')`,
      [alice],
    );
    await sql(url, script);
    expect(await sql(url, `SELECT address FROM accounts`)).toEqual([{ address: 'alice@example.org' }]);
    expect(await sql(url, `SELECT address FROM aliases`)).toEqual([{ address: 'sales@example.org' }]);
    expect(await sql(url, `SELECT address FROM account_send_as ORDER BY address`)).toEqual([
      { address: 'info@example.org' },
      { address: 'team@example.org' },
    ]);
  });

  it('refuses, naming them, two mailboxes that differ only in case, and changes nothing', async () => {
    await account('Bob@example.org');
    await account('bob@example.org');
    await expect(sql(url, script)).rejects.toThrow(
      'mailboxes that differ only in case: bob@example.org. Rename or remove one of each',
    );
    expect(
      await sql(url, `SELECT address FROM accounts WHERE lower(address) = 'bob@example.org' ORDER BY 1`),
    ).toEqual([{ address: 'Bob@example.org' }, { address: 'bob@example.org' }]);
  });
});
