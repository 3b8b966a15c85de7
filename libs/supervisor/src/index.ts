export { restartDelay, BACKOFF_DEFAULTS, type BackoffOptions } from './backoff';
export { Child, type ChildSpec, type ChildStatus, type ListeningMessage } from './child';
export { exitWithChildrenOnSignals, type SignalOptions } from './signals';
export { serveFront, type FrontOptions } from './front';
export type { SupervisorLog } from './log';
export { DEFAULT_GRACE_MS, Supervisor, type SupervisorOptions, type SupervisorReadiness } from './supervisor';
export {
  answerMetricsRequests,
  type MetricFamily,
  type MetricSample,
  type MetricsReply,
  type MetricsRequest,
} from './metrics';
