/**
 * From a delivery report to the `outcome` job's results (libs/queue/src/contracts.ts,
 * `RecipientOutcome`): the same fields, text cut to the contract's 2000 characters.
 */
import type { JobData, QueueName } from '@mta/queue';
import type { DeliveryReport } from './contract';

export type OutcomeResult = JobData<QueueName.Outcome>['results'][number];

const MAX_TEXT = 2000;

export function toOutcomeResults(report: DeliveryReport): OutcomeResult[] {
  return report.results.map((r) => ({
    recipientId: r.recipientId,
    kind: r.kind,
    code: r.code,
    ...(r.enhanced ? { enhanced: r.enhanced } : {}),
    text: r.text.length > MAX_TEXT ? r.text.slice(0, MAX_TEXT - 1) + '…' : r.text,
  }));
}
