import { Module } from '@nestjs/common';
import { smtpServiceModule, startMx } from '@mta/intake';

/**
 * Port 25: mail from the internet for the domains we host (local and relay), never an open relay.
 * The SMTP engine and the intake logic live in libs; this module only starts and stops them.
 */
@Module({})
export class MxModule extends smtpServiceModule('mx', startMx) {}
