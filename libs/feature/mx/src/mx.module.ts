import { Module } from '@nestjs/common';

/**
 * Inbound relay on port 25: accepts mail for local and relay domains only, never an open relay. The SMTP listener arrives with the intake issue.
 */
@Module({})
export class MxModule {}
