/**
 * Every admin API route mtactl calls, with the zod schemas the API itself validates and
 * documents them with (`@mta/feature-admin-api/schemas`). The client can only call a route
 * listed here, and `openapi.e2e.spec.ts` checks each against the served /api/openapi.json:
 * path, method, query parameters, body and response schema. A route renamed or reshaped in
 * the API fails that test (and usually mtactl's typecheck) instead of a user's script.
 */
import type { z } from 'zod';
import * as api from '@mta/feature-admin-api/schemas';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  method: Method;
  /** The path as the OpenAPI document spells it, `{name}` for a path parameter. */
  path: string;
  /** Success status; 204 has no body. */
  status: number;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** JSON body of a success; none for 204 or `raw`. */
  response?: z.ZodType;
  /** The success answer is not JSON (`message/rfc822`). */
  raw?: boolean;
  /** The success answer is a stream of server-sent events (`text/event-stream`). */
  stream?: boolean;
}

const route = <const T extends Route>(spec: T): T => spec;

export const ROUTES = {
  settings: route({ method: 'GET', path: '/api/v1/settings', status: 200, response: api.SettingsView }),

  domainsList: route({
    method: 'GET',
    path: '/api/v1/domains',
    status: 200,
    query: api.PageQuery,
    response: api.pageOf(api.DomainView),
  }),
  domainsCreate: route({
    method: 'POST',
    path: '/api/v1/domains',
    status: 201,
    body: api.CreateDomain,
    response: api.DomainView,
  }),
  domainsDelete: route({ method: 'DELETE', path: '/api/v1/domains/{name}', status: 204 }),
  domainsDns: route({
    method: 'GET',
    path: '/api/v1/domains/{name}/dns',
    status: 200,
    response: api.DnsView,
  }),
  domainsDnsCheck: route({
    method: 'GET',
    path: '/api/v1/domains/{name}/dns/check',
    status: 200,
    response: api.DnsCheckView,
  }),

  dkimList: route({
    method: 'GET',
    path: '/api/v1/domains/{name}/dkim',
    status: 200,
    query: api.PageQuery,
    response: api.pageOf(api.DkimKeyView),
  }),
  dkimCreate: route({
    method: 'POST',
    path: '/api/v1/domains/{name}/dkim',
    status: 201,
    body: api.CreateDkimKey,
    response: api.DkimKeyView,
  }),
  dkimUpdate: route({
    method: 'PATCH',
    path: '/api/v1/domains/{name}/dkim/{selector}',
    status: 200,
    body: api.UpdateDkimKey,
    response: api.DkimKeyView,
  }),
  dkimDelete: route({ method: 'DELETE', path: '/api/v1/domains/{name}/dkim/{selector}', status: 204 }),

  accountsList: route({
    method: 'GET',
    path: '/api/v1/accounts',
    status: 200,
    query: api.PageQuery,
    response: api.pageOf(api.AccountView),
  }),
  accountsCreate: route({
    method: 'POST',
    path: '/api/v1/accounts',
    status: 201,
    body: api.CreateAccount,
    response: api.AccountView,
  }),
  accountsUpdate: route({
    method: 'PATCH',
    path: '/api/v1/accounts/{address}',
    status: 200,
    body: api.UpdateAccount,
    response: api.AccountView,
  }),
  accountsDelete: route({ method: 'DELETE', path: '/api/v1/accounts/{address}', status: 204 }),

  aliasesList: route({
    method: 'GET',
    path: '/api/v1/aliases',
    status: 200,
    query: api.PageQuery,
    response: api.pageOf(api.AliasView),
  }),
  aliasesCreate: route({
    method: 'POST',
    path: '/api/v1/aliases',
    status: 201,
    body: api.CreateAlias,
    response: api.AliasView,
  }),
  aliasesDelete: route({ method: 'DELETE', path: '/api/v1/aliases/{address}', status: 204 }),

  queueSummary: route({ method: 'GET', path: '/api/v1/queue', status: 200, response: api.QueueSummary }),
  queueDomains: route({
    method: 'GET',
    path: '/api/v1/queue/domains',
    status: 200,
    query: api.PageQuery,
    response: api.pageOf(api.DestinationView),
  }),
  queuePause: route({
    method: 'POST',
    path: '/api/v1/queue/domains/{domain}/pause',
    status: 200,
    body: api.PauseDomain,
    response: api.PauseView,
  }),
  queueResume: route({
    method: 'POST',
    path: '/api/v1/queue/domains/{domain}/resume',
    status: 200,
    response: api.QueueResumeView,
  }),

  messagesList: route({
    method: 'GET',
    path: '/api/v1/messages',
    status: 200,
    query: api.ListMessagesQuery,
    response: api.pageOf(api.MessageSummary),
  }),
  messagesShow: route({
    method: 'GET',
    path: '/api/v1/messages/{id}',
    status: 200,
    response: api.MessageDetail,
  }),
  messagesRaw: route({ method: 'GET', path: '/api/v1/messages/{id}/raw', status: 200, raw: true }),
  messagesRetry: route({
    method: 'POST',
    path: '/api/v1/messages/{id}/retry',
    status: 200,
    response: api.QueueActionResult,
  }),
  messagesHold: route({
    method: 'POST',
    path: '/api/v1/messages/{id}/hold',
    status: 200,
    response: api.QueueActionResult,
  }),
  messagesRelease: route({
    method: 'POST',
    path: '/api/v1/messages/{id}/release',
    status: 200,
    response: api.QueueActionResult,
  }),
  /** 200 with the result when bouncing, 204 when deleting. */
  messagesDelete: route({
    method: 'DELETE',
    path: '/api/v1/messages/{id}',
    status: 200,
    query: api.DeleteMessageQuery,
    response: api.QueueActionResult,
  }),

  suppressionsList: route({
    method: 'GET',
    path: '/api/v1/suppressions',
    status: 200,
    query: api.ListSuppressionsQuery,
    response: api.pageOf(api.SuppressionView),
  }),
  suppressionsCreate: route({
    method: 'POST',
    path: '/api/v1/suppressions',
    status: 201,
    body: api.CreateSuppression,
    response: api.SuppressionView,
  }),
  suppressionsDelete: route({ method: 'DELETE', path: '/api/v1/suppressions/{address}', status: 204 }),

  shapingList: route({
    method: 'GET',
    path: '/api/v1/shaping',
    status: 200,
    query: api.PageQuery,
    response: api.pageOf(api.ShapingOverrideView),
  }),
  shapingGet: route({
    method: 'GET',
    path: '/api/v1/shaping/{domain}',
    status: 200,
    response: api.DomainShapingView,
  }),
  shapingPut: route({
    method: 'PUT',
    path: '/api/v1/shaping/{domain}',
    status: 200,
    body: api.PutShaping,
    response: api.DomainShapingView,
  }),
  shapingDelete: route({ method: 'DELETE', path: '/api/v1/shaping/{domain}', status: 204 }),

  eventsList: route({
    method: 'GET',
    path: '/api/v1/events',
    status: 200,
    query: api.ListEventsQuery,
    response: api.pageOf(api.EventView),
  }),
  eventsStream: route({
    method: 'GET',
    path: '/api/v1/events/stream',
    status: 200,
    query: api.StreamEventsQuery,
    stream: true,
  }),

  tokensList: route({
    method: 'GET',
    path: '/api/v1/tokens',
    status: 200,
    query: api.PageQuery,
    response: api.pageOf(api.TokenView),
  }),
  tokensCreate: route({
    method: 'POST',
    path: '/api/v1/tokens',
    status: 201,
    body: api.CreateToken,
    response: api.CreatedToken,
  }),
  tokensRevoke: route({ method: 'DELETE', path: '/api/v1/tokens/{id}', status: 204 }),
} satisfies Record<string, Route>;

export type Routes = typeof ROUTES;
