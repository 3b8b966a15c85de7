export { restartDelay, BACKOFF_DEFAULTS, type BackoffOptions } from './backoff';
export { Child, type ChildSpec, type ChildStatus } from './child';
export { exitWithChildrenOnSignals, type SignalOptions } from './signals';
export { serveFront, type FrontOptions } from './front';
export { freeLoopbackPort } from './free-port';
export type { SupervisorLog } from './log';
export { DEFAULT_GRACE_MS, Supervisor, type SupervisorOptions, type SupervisorReadiness } from './supervisor';
