import { Module } from '@nestjs/common';

/**
 * Policy answers: relay rights, rate limits, DNSBL, greylisting, SPF/DKIM/DMARC, DKIM signing. Arrives with the policy issue.
 */
@Module({})
export class PolicyModule {}
