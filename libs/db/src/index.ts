/**
 * @mta/db: the Prisma schema's generated client and types, the client provider (plain and
 * NestJS), migrations and database helpers. See libs/db/README.md.
 */
export { createPgPool, createPrismaClient, pingDatabase } from './client';
export type { CreatePrismaClientOptions } from './client';
export { DbModule, PrismaService, PRISMA_CLIENT, DB_MODULE_OPTIONS } from './db.module';
export type { DbModuleOptions, DbModuleAsyncOptions } from './db.module';
export {
  migrateDatabase,
  createDatabase,
  dropDatabase,
  withDatabaseName,
  findWorkspaceRoot,
} from './migrate';
export type { MigrateOptions, MigrateResult } from './migrate';
export { DEFAULT_DATABASE_URL } from '../prisma/offline-engine';
export { newQueueId, QUEUE_ID_PATTERN } from './queue-id';
export { readMessageBody, readMessageBuffer, type ChunkSource } from './message-body';
export { GroupCommit, type BatchWrite, type GroupCommitOptions } from './group-commit';

// The generated client: PrismaClient, the Prisma namespace (errors, input types), the enums
// (values and types) and one type per model.
export { PrismaClient, Prisma } from './generated/prisma/client';
export * from './generated/prisma/enums';
export type {
  Domain,
  Account,
  AccountSendAs,
  Alias,
  AliasTarget,
  ApiToken,
  Suppression,
  DomainPause,
  DeliveryShaping,
  Message,
  MessageChunk,
  Recipient,
  DeliveryAttempt,
  Event,
  TlsReport,
  WebhookEndpoint,
  WebhookDelivery,
  WebhookAttempt,
} from './generated/prisma/client';
