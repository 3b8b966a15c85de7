import {
  type DynamicModule,
  type FactoryProvider,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { createPgPool, createPrismaClient, type CreatePrismaClientOptions, pingDatabase } from './client';
import type { PrismaClient } from './generated/prisma/client';
import type pg from 'pg';

/** Injection token of the PrismaClient: `@Inject(PRISMA_CLIENT) db: PrismaClient`. */
export const PRISMA_CLIENT = Symbol('PRISMA_CLIENT');
/** Injection token of the DbModuleOptions. */
export const DB_MODULE_OPTIONS = Symbol('DB_MODULE_OPTIONS');

export interface DbModuleOptions extends CreatePrismaClientOptions {
  /** e.g. `postgresql://postgres@127.0.0.1:5432/mta` */
  databaseUrl: string;
}

export interface DbModuleAsyncOptions {
  imports?: DynamicModule['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => DbModuleOptions | Promise<DbModuleOptions>;
}

/**
 * Owns the one PrismaClient of the process: `service.client` (or inject PRISMA_CLIENT), a
 * readiness check, and disconnection when Nest shuts down.
 */
@Injectable()
export class PrismaService implements OnApplicationShutdown {
  readonly client: PrismaClient;
  private readonly databaseUrl: string;
  private plainPool: pg.Pool | undefined;

  constructor(@Inject(DB_MODULE_OPTIONS) options: DbModuleOptions) {
    const { databaseUrl, ...clientOptions } = options;
    this.databaseUrl = databaseUrl;
    this.client = createPrismaClient(databaseUrl, clientOptions);
  }

  /** A plain pg pool on the same database, opened on first use (see createPgPool). */
  get pool(): pg.Pool {
    return (this.plainPool ??= createPgPool(this.databaseUrl));
  }

  /** `SELECT 1` with a short timeout, for /readyz: rejects if the database did not answer. */
  ping(timeoutMs?: number): Promise<void> {
    return pingDatabase(this.client, timeoutMs);
  }

  /**
   * Disconnects last: in the application-shutdown phase, which Nest runs for this global module
   * after every feature module's (workers, SMTP services). `onModuleDestroy` ran before all of
   * them and cut the database under jobs still running (their transactions failed).
   */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.client.$disconnect(), this.plainPool?.end()]);
  }
}

const common: Provider[] = [
  PrismaService,
  { provide: PRISMA_CLIENT, useFactory: (service: PrismaService) => service.client, inject: [PrismaService] },
];

/** Global module: import once (in the app's root module) with forRoot or forRootAsync. */
@Global()
@Module({})
export class DbModule {
  static forRoot(options: DbModuleOptions): DynamicModule {
    return {
      module: DbModule,
      providers: [{ provide: DB_MODULE_OPTIONS, useValue: options }, ...common],
      exports: [PrismaService, PRISMA_CLIENT],
    };
  }

  static forRootAsync(options: DbModuleAsyncOptions): DynamicModule {
    return {
      module: DbModule,
      imports: options.imports ?? [],
      providers: [
        { provide: DB_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        ...common,
      ],
      exports: [PrismaService, PRISMA_CLIENT],
    };
  }
}
