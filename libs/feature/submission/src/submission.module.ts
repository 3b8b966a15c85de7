import { Module } from '@nestjs/common';
import { smtpServiceModule, startSubmission } from '@mta/intake';

/**
 * Ports 587 (STARTTLS) and 465 (implicit TLS): our users' outgoing mail, after AUTH.
 * The SMTP engine and the intake logic live in libs; this module only starts and stops them.
 */
@Module({})
export class SubmissionModule extends smtpServiceModule('submission', startSubmission) {}
