/** The deployable services; each is one app in apps/ and one Deployment in k8s/. */
export const SERVICE_NAMES = [
  'mx',
  'submission',
  'queue',
  'delivery',
  'policy',
  'admin-api',
  'all-in-one',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
