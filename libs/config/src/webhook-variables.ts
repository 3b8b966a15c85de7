import { z } from 'zod';
import { both, flag, integer, variable } from './variable-kinds';

/** A 32-byte key in base64 (`openssl rand -base64 32`). */
const base64Key = z.string().refine((value) => {
  const key = Buffer.from(value, 'base64');
  return key.length === 32 && key.toString('base64') === value;
}, 'expected 32 bytes in base64 (e.g. `openssl rand -base64 32`)');

/** The settings of the webhooks (issue 22, libs/webhooks). */
export const webhookVariables = {
  WEBHOOK_SECRET_KEY: variable(
    'Key (32 bytes, base64: `openssl rand -base64 32`) that encrypts the signing secrets of the webhook endpoints in the database (AES-256-GCM); the same on every replica, and kept: another key cannot read the stored secrets. Unset: webhooks are off and `/api/v1/webhooks` answers 503 naming this setting.',
    base64Key,
    {},
    true,
  ),
  WEBHOOK_ALLOW_PRIVATE: variable(
    'Let webhook URLs reach loopback, private (RFC 1918, RFC 4193), link-local and other non-public addresses. `false`: refused when the endpoint is created and again at each connection, after the name is resolved.',
    flag,
    both('false'),
  ),
  WEBHOOK_CONCURRENCY: variable(
    'Webhook requests one queue manager process sends at once (its own queue, so slow endpoints never slow mail delivery).',
    integer(1, 1000),
    both('10'),
  ),
  WEBHOOK_BATCH_MAX: variable(
    'Most events in one POST to an endpoint that takes batches (`batch: true`, the default; its body `{"events": [...]}`, signed as a whole); more due at once go in further POSTs.',
    integer(1, 1000),
    both('100'),
  ),
  WEBHOOK_CONNECT_TIMEOUT_MS: variable(
    'Longest wait for the connection to a webhook endpoint (TCP and TLS, ms).',
    integer(100, 60_000),
    both('5000'),
  ),
  WEBHOOK_TIMEOUT_MS: variable(
    'Longest wait for the whole answer of a webhook endpoint after the connection (ms); then the attempt counts as failed.',
    integer(100, 300_000),
    both('15000'),
  ),
  WEBHOOK_RETRY_FIRST_MS: variable(
    'Delay before the second attempt of a failed webhook delivery (ms); later delays double, up to one hour.',
    integer(100, 3_600_000),
    both('5000'),
  ),
  WEBHOOK_RETRY_WINDOW_MS: variable(
    'How long a failed webhook delivery is retried (ms, default 24 h); an endpoint whose every attempt has failed for this long is disabled.',
    integer(1000, 30 * 86_400_000),
    both(String(86_400_000)),
  ),
};
