import { Module } from '@nestjs/common';

/**
 * The REST API (OpenAPI) to administer domains, accounts, tokens and the queue. Arrives with the admin API issue.
 */
@Module({})
export class AdminApiModule {}
