/**
 * The policy settings the admin API validates, without the rest of the library (BullMQ, Redis,
 * DNS): `@mta/policy/schemas`, for schema modules that a client such as mtactl bundles.
 */
export { AccountRateLimits } from './account-limits';
