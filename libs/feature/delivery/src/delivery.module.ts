import { Module } from '@nestjs/common';

/**
 * Outbound delivery workers: MX lookup, SMTP client, local delivery (Maildir, LMTP). Arrives with the delivery issue.
 */
@Module({})
export class DeliveryModule {}
