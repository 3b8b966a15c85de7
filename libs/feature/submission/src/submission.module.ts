import { Module } from '@nestjs/common';

/**
 * Authenticated submission on ports 587 (STARTTLS) and 465 (implicit TLS). The listeners arrive with the intake issue.
 */
@Module({})
export class SubmissionModule {}
