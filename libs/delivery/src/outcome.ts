/**
 * From a delivery report to the `outcome` job's results (libs/queue/src/contracts.ts,
 * `RecipientOutcome`): the same fields, text cut to the contract's 2000 characters, the host
 * that answered and the session's TLS (version, cipher, verified) for `delivery_attempts`.
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
    // Who answered and over what TLS, for the `delivery_attempts` row.
    ...(r.remote
      ? {
          remote: {
            host: r.remote.host.slice(0, 255),
            ...(r.remote.address ? { address: r.remote.address.slice(0, 64) } : {}),
            ...(r.remote.port ? { port: r.remote.port } : {}),
          },
        }
      : {}),
    ...(r.tls === undefined
      ? {}
      : {
          tls:
            r.tls === null
              ? null
              : {
                  version: r.tls.protocol?.slice(0, 64) ?? null,
                  cipher: r.tls.cipher?.slice(0, 128) ?? null,
                  verified: r.tls.authorized,
                },
        }),
    ...(r.tlsPolicy ? { tlsPolicy: r.tlsPolicy } : {}),
    ...(r.nextHopDsn === undefined ? {} : { nextHopDsn: r.nextHopDsn }),
  }));
}
