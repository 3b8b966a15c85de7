/** Injection token of the bearer token `/metrics` requires (a string), or null for none. */
export const METRICS_TOKEN = Symbol('METRICS_TOKEN');
