/**
 * The request and response schemas of the admin API, without Nest: what the controllers
 * validate with and document in /api/openapi.json. `mtactl` (apps/mtactl) imports them from
 * here (`@mta/feature-admin-api/schemas`), so the command-line client sends and reads exactly
 * what the API checks, and a change here breaks its typecheck rather than its users.
 */
export { PageQuery, pageOf } from './common/pagination';
export { AccountView, CreateAccount, UpdateAccount } from './accounts/accounts.schemas';
export { AliasView, CreateAlias } from './aliases/aliases.schemas';
export {
  CreateDkimKey,
  CreateDomain,
  DkimKeyView,
  DnsCheckView,
  DnsView,
  DomainView,
  UpdateDkimKey,
  UpdateDomain,
} from './domains/domains.schemas';
export { EventType, EventView, ListEventsQuery, StreamEventsQuery } from './events/events.schemas';
export {
  DeleteMessageQuery,
  ListMessagesQuery,
  MessageDetail,
  MessageSummary,
  QueueActionResult,
  RecipientStatus,
} from './messages/messages.schemas';
export {
  DestinationView,
  PauseDomain,
  PauseView,
  QueueResumeView,
  QueueSummary,
} from './queue/queue.schemas';
export { SettingsView, UpdateSettings } from './settings/settings.schemas';
export { DomainShapingView, PutShaping, ShapingOverrideView } from './shaping/shaping.schemas';
export {
  CreateSuppression,
  ListSuppressionsQuery,
  SuppressionView,
} from './suppressions/suppressions.schemas';
export { CreatedToken, CreateToken, TokenView } from './tokens/tokens.schemas';
export {
  CreatedWebhook,
  CreateWebhook,
  ListDeliveriesQuery,
  UpdateWebhook,
  WebhookDeliveryView,
  WebhookView,
} from './webhooks/webhooks.schemas';
