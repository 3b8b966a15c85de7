/**
 * The driver adapter that Prisma Migrate uses (see prisma.config.ts at the workspace root).
 *
 * Why this file exists: with Prisma 6.19, `engine: 'js'` plus a driver adapter in the config
 * makes every CLI command (migrate deploy/dev/diff/status, generate, format, --version) run the
 * schema engine as WebAssembly shipped inside the `prisma` package, so nothing is downloaded at
 * run time: the CLI works offline, and the same code works unchanged where the internet is
 * reachable. Prisma 6.19.3 with stock @prisma/adapter-pg needs four small fixes for Migrate; they
 * all live here, so that deleting this file (and using a plain `new PrismaPg(...)`) is the whole
 * clean-up once upstream has fixed them:
 *
 * 1. prisma/orm#27403: the schema engine introspects pg_catalog, whose `name` and `"char"`
 *    columns the adapter refuses ("Unsupported column type name"). Our pool's clients report
 *    those columns as `text` (the values already arrive as strings).
 * 2. The adapter creates the shadow database (`migrate dev`, `migrate diff --from-migrations`)
 *    with `{ ...config, database }`, which a `connectionString` silently overrides, so the
 *    "shadow" would be the main database. We hand it discrete host/port/user/database fields.
 * 3. Stock `migrate deploy` creates a missing database, but not when an adapter is configured:
 *    `connect()` creates it here, as the classic engine would (printing a similar line).
 * 4. The CLI never disposes the adapter, and the WebAssembly engine leaves a 10 s timer behind
 *    (apparently its advisory-lock timeout; never cleared), so `migrate deploy` sat idle for 10 s after
 *    its work (`migrate dev` up to a minute). Our pools use `allowExitOnIdle`, and
 *    `letCliExitWhenDone()` (called by prisma.config.ts only, i.e. only inside the CLI) unrefs
 *    the engine's timers. They only time out work that also waits on a database socket, which
 *    keeps the process alive while that work is pending, so nothing is cut short.
 *
 * 5. The adapter's `executeScript` (what `migrate deploy` runs each migration with) splits the
 *    script on every `;`, also inside the dollar-quoted body of a plpgsql function (the webhooks
 *    outbox trigger): `withScriptSplitter` runs the statements that sql-script.ts finds instead.
 *
 * Only `pg`, `pg-connection-string` (pg's own URL parser) and `@prisma/adapter-pg` are used, so
 * this file can be imported by the CLI config and by application code alike (createPrismaClient
 * uses the fix-1 pool too, so raw queries on catalog columns work).
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { splitSqlScript } from './sql-script';

/** Where `npm run db:migrate` and friends go unless DATABASE_URL says otherwise. */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/mta';

const TEXT_OID = 25;
/** pg_catalog types that adapter-pg 6.19 rejects: `"char"` (18) and `name` (19). Fix 1. */
const CATALOG_TEXT_OIDS = new Set([18, 19]);

type Fields = { dataTypeID: number }[];
function reportCatalogTypesAsText<R>(result: R): R {
  for (const r of (Array.isArray(result) ? result : [result]) as { fields?: Fields }[]) {
    for (const field of r?.fields ?? []) {
      if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

/** A pg client whose query results describe `name`/`"char"` columns as `text`. Fix 1. */
class CatalogTextClient extends pg.Client {
  // pg's `query` has many overloads (promise, callback, submittable); pass every form through.
  override query(...args: unknown[]): never {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (err: unknown, res: unknown) => callback(err, err ? res : reportCatalogTypesAsText(res));
    }
    const out = (super.query as (...a: unknown[]) => unknown)(...args);
    return (out instanceof Promise ? out.then(reportCatalogTypesAsText) : out) as never;
  }
}

/** Discrete connection fields (no `connectionString`), so `{ ...config, database }` works. Fix 2. */
export function poolConfig(databaseUrl: string, database?: string): pg.PoolConfig {
  const { database: fromUrl, ...rest } = parseIntoClientConfig(databaseUrl);
  return {
    ...rest,
    database: database ?? fromUrl ?? undefined,
    Client: CatalogTextClient,
    idleTimeoutMillis: 1_000,
    allowExitOnIdle: true,
  } as pg.PoolConfig;
}

/** Runs one statement on the `postgres` maintenance database of the same server. */
async function onMaintenanceDb(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({
    ...parseIntoClientConfig(databaseUrl),
    database: 'postgres',
  } as pg.ClientConfig);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Creates the database named in the URL if it does not exist; true if it was created. Fix 3. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const database = parseIntoClientConfig(databaseUrl).database;
  if (!database) throw new Error(`No database name in the connection URL ${redact(databaseUrl)}`);
  const probe = new pg.Client(poolConfig(databaseUrl) as pg.ClientConfig);
  try {
    await probe.connect();
    return false;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err; // 3D000: invalid_catalog_name
  } finally {
    await probe.end().catch(() => undefined);
  }
  try {
    await onMaintenanceDb(databaseUrl, `CREATE DATABASE ${quoteIdent(database)}`);
  } catch (err) {
    // Created concurrently by someone else: 42P04 duplicate_database, or 23505 when both
    // CREATE DATABASE statements raced on pg_database's unique index.
    if (!['42P04', '23505'].includes((err as { code?: string }).code ?? '')) throw err;
    return false;
  }
  return true;
}

/** The URL without its password, for messages. */
export function redact(databaseUrl: string): string {
  return databaseUrl.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

/** Fix 4: timers created by the WebAssembly engine no longer keep the CLI process alive. */
export function letCliExitWhenDone(): void {
  const original = globalThis.setTimeout;
  const patched = function (this: unknown, ...args: Parameters<typeof setTimeout>) {
    const timer = original.apply(this, args);
    if (new Error().stack?.includes('wasm://')) timer.unref();
    return timer;
  };
  globalThis.setTimeout = Object.assign(patched, original);
}

type Connection = Awaited<ReturnType<PrismaPg['connect']>>;

/** Fix 5: the connection runs scripts statement by statement, split where statements end. */
export function withScriptSplitter(connection: Connection): Connection {
  connection.executeScript = async (script: string) => {
    for (const statement of splitSqlScript(script)) {
      await connection.executeRaw({ sql: statement, args: [], argTypes: [] });
    }
  };
  return connection;
}

/**
 * The adapter factory for `prisma.config.ts`: Prisma's own PrismaPg with the fixes above.
 * `shadowDatabaseUrl`, if given, is used as the shadow database as is (like the classic engine's
 * `shadowDatabaseUrl`); otherwise a temporary one is created and dropped on the same server.
 */
export function migrateAdapter(
  databaseUrl: string = process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
  shadowDatabaseUrl: string | undefined = process.env.SHADOW_DATABASE_URL || undefined,
) {
  const adapter = new PrismaPg(poolConfig(databaseUrl));
  const connect = adapter.connect.bind(adapter);
  adapter.connect = async () => {
    const created = await ensureDatabase(databaseUrl).catch((err: Error) => {
      // The CLI reports errors thrown here only as "External error id#0": say what it was.
      process.stderr.write(`Cannot connect to ${redact(databaseUrl)}: ${err.message}\n`);
      throw err;
    });
    if (created) {
      const { database, host, port } = parseIntoClientConfig(databaseUrl);
      process.stderr.write(
        `PostgreSQL database ${database} created at ${host ?? 'localhost'}:${port ?? 5432}\n`,
      );
    }
    return withScriptSplitter(await connect());
  };
  if (shadowDatabaseUrl) {
    adapter.connectToShadowDb = async () =>
      withScriptSplitter(await new PrismaPg(poolConfig(shadowDatabaseUrl)).connect());
  } else {
    const shadow = adapter.connectToShadowDb.bind(adapter);
    adapter.connectToShadowDb = async () => withScriptSplitter(await shadow());
  }
  return adapter;
}
