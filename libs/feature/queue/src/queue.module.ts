import { Module } from '@nestjs/common';

/**
 * The queue manager: routes accepted messages, schedules retries, writes bounces, expires old mail, reconciles PostgreSQL against Redis. Arrives with the queue issue.
 */
@Module({})
export class QueueManagerModule {}
