import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { LOGGER, Metrics, type Logger } from '@mta/observability';
import { JobProducer } from '@mta/queue';
import { QueueDispatch, scheduleFromConfig } from '@mta/queue-manager';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import { AliasesController } from './aliases/aliases.controller';
import { AliasesService } from './aliases/aliases.service';
import { BearerAuthGuard } from './common/auth.guard';
import { ApiExceptionFilter } from './common/exception.filter';
import { DomainsController } from './domains/domains.controller';
import { DomainsService } from './domains/domains.service';
import { EventsController } from './events/events.controller';
import { EventsService } from './events/events.service';
import { EventsStream } from './events/events-stream';
import { MessagesController } from './messages/messages.controller';
import { MessagesService } from './messages/messages.service';
import { MtaStsController } from './mta-sts/mta-sts.controller';
import { TlsReportsController } from './tls-reports/tls-reports.controller';
import { TlsReportsService } from './tls-reports/tls-reports.service';
import { QueueActionsService } from './messages/queue-actions.service';
import { OpenApiBuilder } from './openapi/openapi.builder';
import { OpenApiController } from './openapi/openapi.controller';
import { QueueController } from './queue/queue.controller';
import { QueueService } from './queue/queue.service';
import { SettingsController } from './settings/settings.controller';
import { SettingsService } from './settings/settings.service';
import { ShapingController } from './shaping/shaping.controller';
import { ShapingService } from './shaping/shaping.service';
import { SuppressionsController } from './suppressions/suppressions.controller';
import { SuppressionsService } from './suppressions/suppressions.service';
import { TokensController } from './tokens/tokens.controller';
import { TokensService } from './tokens/tokens.service';
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhooksService } from './webhooks/webhooks.service';

/**
 * The REST API (`/api/v1`, OpenAPI at `/api/openapi.json`, Swagger UI at `/api/docs`) to
 * administer domains, DKIM keys, accounts, aliases, API tokens, the queue, suppressions,
 * settings, traffic shaping and the event log. Served on ADMIN_LISTEN next to /healthz, /readyz and /metrics.
 * It stands on the core module's PrismaService, JobProducer, APP_CONFIG and LOGGER.
 *
 * The exception filter is registered globally (APP_FILTER): every HTTP error of the process
 * gets the API's JSON error shape. Every /api/v1 controller carries BearerAuthGuard.
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [
    OpenApiController,
    TokensController,
    DomainsController,
    AccountsController,
    AliasesController,
    MessagesController,
    QueueController,
    SuppressionsController,
    EventsController,
    SettingsController,
    ShapingController,
    MtaStsController,
    TlsReportsController,
    WebhooksController,
  ],
  providers: [
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    BearerAuthGuard,
    OpenApiBuilder,
    TokensService,
    DomainsService,
    AccountsService,
    AliasesService,
    MessagesService,
    QueueActionsService,
    {
      // The queue manager's dispatcher, with the queue's own settings (RELAY_HOST, RETRY_*):
      // queue actions change states through @mta/queue-state and ask it for the jobs.
      provide: QueueDispatch,
      inject: [APP_CONFIG, PrismaService, JobProducer, LOGGER, Metrics],
      useFactory: (
        config: AppConfig,
        db: PrismaService,
        producer: JobProducer,
        logger: Logger,
        metrics: Metrics,
      ) =>
        new QueueDispatch(
          {
            db: db.client,
            pool: db.pool,
            producer,
            logger: logger.child({ module: 'queue-dispatch' }),
            registry: metrics.registry,
          },
          { relayHost: config.RELAY_HOST || undefined, schedule: scheduleFromConfig(config) },
        ),
    },
    QueueService,
    SuppressionsService,
    EventsService,
    EventsStream,
    SettingsService,
    ShapingService,
    TlsReportsService,
    WebhooksService,
  ],
})
export class AdminApiModule {}
