export { checkWebhookUrl, forbiddenReason } from './address-guard';
export { postJson, guardedLookup, type PostOptions, type PostResult } from './http-post';
export { encryptSecret, decryptSecret, parseSecretKey } from './secret-box';
export { generateSecret, sign, signedHeaders, verify, SECRET_PREFIX, type SignedHeaders } from './signature';
export { retryDelay, RETRY_MAX_MS, KEEP_DONE_MS, type RetryPolicy } from './store';
export { WebhooksWorker, webhookSettings } from './webhooks-worker';
export { webhookIdOf } from './sender';
export { WebhooksWorkerModule } from './webhooks.module';
export {
  WEBHOOK_EVENT_SCHEMAS,
  WEBHOOK_EVENT_TYPES,
  WebhookBatch,
  WebhookEvent,
  WebhookEventTypeSchema,
  type WebhookEventType,
} from './schemas';
