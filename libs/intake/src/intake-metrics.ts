import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const perRegistry = new WeakMap<Registry, IntakeMetrics>();

/** Prometheus counters of what intake accepted and refused, by reason. */
export class IntakeMetrics {
  /** One set of counters per registry: mx and submission share them (labelled by service). */
  static for(registry: Registry): IntakeMetrics {
    let metrics = perRegistry.get(registry);
    if (!metrics) {
      metrics = new IntakeMetrics(registry);
      perRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly transactions: Counter<'service' | 'result' | 'reason'>;
  readonly recipients: Counter<'service' | 'result' | 'reason'>;
  /** Accepted messages by whether their session used TLS (the dashboard's TLS share). */
  readonly tlsMessages: Counter<'service' | 'tls'>;
  /** From the last byte of the data to the commit (what the client waits for before its 250). */
  readonly storeSeconds: Histogram<'service'>;
  /** Messages per database write (group commit): 1 when the load is light. */
  readonly batchMessages: Histogram<'service'>;
  /** Flow control: how many transactions may be open at once (+Inf: no limit). */
  readonly flowLimit: Gauge<'service'>;
  /** Flow control: MAIL commands that waited, by how the wait ended, and how long they waited. */
  readonly flowDelaySeconds: Histogram<'service' | 'outcome'>;
  /** mx: messages by DMARC result and what the inbound policy did with them. */
  readonly inboundDecisions: Counter<'dmarc' | 'action'>;
  /** Questions to the policy service by stage and how they ended, and how long they took. */
  readonly policyQuestions: Counter<'service' | 'stage' | 'result'>;
  readonly policySeconds: Histogram<'service'>;

  private constructor(registry: Registry) {
    this.transactions = new Counter({
      name: 'mta_intake_transactions_total',
      help: 'SMTP mail transactions by result (accepted, refused) and reason of refusal.',
      labelNames: ['service', 'result', 'reason'],
      registers: [registry],
    });
    this.recipients = new Counter({
      name: 'mta_intake_recipients_total',
      help: 'RCPT commands by result (accepted, refused) and reason of refusal.',
      labelNames: ['service', 'result', 'reason'],
      registers: [registry],
    });
    this.tlsMessages = new Counter({
      name: 'mta_intake_tls_messages_total',
      help: 'Accepted messages by whether the session used TLS (yes, no).',
      labelNames: ['service', 'tls'],
      registers: [registry],
    });
    this.storeSeconds = new Histogram({
      name: 'mta_intake_store_seconds',
      help: 'Time from the end of the data to the committed message (the wait for the 250), seconds.',
      labelNames: ['service'],
      buckets: [
        0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5,
      ],
      registers: [registry],
    });
    this.batchMessages = new Histogram({
      name: 'mta_intake_batch_messages',
      help: 'Messages committed together in one database write (group commit).',
      labelNames: ['service'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    });
    this.flowLimit = new Gauge({
      name: 'mta_intake_flow_limit',
      help: 'Flow control: mail transactions that may be open at once (+Inf while commits keep up).',
      labelNames: ['service'],
      registers: [registry],
    });
    this.inboundDecisions = new Counter({
      name: 'mta_intake_inbound_decisions_total',
      help: 'mx: messages by DMARC result (pass, fail, none, temperror, ...) and action (accept, quarantine, reject, defer).',
      labelNames: ['dmarc', 'action'],
      registers: [registry],
    });
    this.policyQuestions = new Counter({
      name: 'mta_intake_policy_questions_total',
      help: 'Questions to the policy service by stage (connect, mail, rcpt) and result (accepted, refused, unanswered: no answer within POLICY_TIMEOUT_MS).',
      labelNames: ['service', 'stage', 'result'],
      registers: [registry],
    });
    this.policySeconds = new Histogram({
      name: 'mta_intake_policy_seconds',
      help: 'How long a question to the policy service waited for its answer (or the deadline).',
      labelNames: ['service'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    });
    this.flowDelaySeconds = new Histogram({
      name: 'mta_intake_flow_delay_seconds',
      help: 'Flow control: how long a MAIL FROM waited, by outcome (admitted: a transaction ended; timeout: the longest wait passed).',
      labelNames: ['service', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  }
}

/** A short, bounded label for a refusal: its enhanced status code (or the reply code). */
export function reasonOf(error: { code: number; enhanced?: string }): string {
  return error.enhanced ?? String(error.code);
}
