/**
 * Prisma CLI configuration (Prisma 6.19): the schema and migrations live in libs/db/prisma.
 * `engine: 'js'` runs Prisma Migrate's WebAssembly schema engine through the pg driver adapter,
 * so no engine binary is ever downloaded (works offline). See libs/db/README.md.
 */
import { defineConfig } from 'prisma/config';
import { DEFAULT_DATABASE_URL, letCliExitWhenDone, migrateAdapter } from './libs/db/prisma/offline-engine';

// schema.prisma reads env("DATABASE_URL"); give it the same default as the adapter.
process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;
letCliExitWhenDone();

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => migrateAdapter(process.env.DATABASE_URL),
  schema: 'libs/db/prisma/schema.prisma',
  migrations: { path: 'libs/db/prisma/migrations' },
});
