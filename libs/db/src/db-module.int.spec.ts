/** DbModule in a real Nest application context. */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { DbModule, PRISMA_CLIENT, PrismaClient, PrismaService, migrateDatabase, pingDatabase } from './index';
import { databaseName, freshDatabases, serverUrl, sql } from './spec-helpers';

const freshDatabaseUrl = freshDatabases();

describe('DbModule', () => {
  it('provides one client to Nest, and disconnects it on shutdown', async () => {
    const url = freshDatabaseUrl();
    await migrateDatabase(url);

    @Module({ imports: [DbModule.forRootAsync({ useFactory: () => ({ databaseUrl: url }) })] })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const service = app.get(PrismaService);
    const client = app.get<PrismaClient>(PRISMA_CLIENT);
    expect(client).toBe(service.client);
    // A generous deadline: what is tested is that the ping goes through, not how fast a busy
    // machine opens the first connection (readiness's own 1 s is tested in client.int.spec.ts).
    await expect(service.ping(30_000)).resolves.toBeUndefined();
    await expect(pingDatabase(service, 30_000)).resolves.toBeUndefined();
    expect(await client.domain.count()).toBe(0);
    await app.close();
    // No session of ours is left on the database. A closed connection's backend leaves
    // pg_stat_activity when it has exited, a moment after the client hung up: wait for that.
    const deadline = Date.now() + 30_000;
    let sessions = await openSessions(url);
    while (sessions.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      sessions = await openSessions(url);
    }
    expect(sessions).toEqual([]);
  });
});

const openSessions = (url: string) =>
  sql(serverUrl, 'SELECT 1 FROM pg_stat_activity WHERE datname = $1', [databaseName(url)]);
