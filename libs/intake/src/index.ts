export { PrismaDirectory, type Directory } from './directory';
export { RecipientResolver, type ResolvedRecipient, type RecipientRoute } from './recipient-resolver';
export { PrismaAccountDirectory, type AccountDirectory } from './accounts';
export { AuthThrottle, type AuthThrottleOptions } from './auth-throttle';
export { BodyCollector } from './body-collector';
export { MessageWriter, type IncomingMessage, type StoredMessage } from './message-writer';
export { IntakeMetrics } from './intake-metrics';
export { TransactionLog } from './transaction-log';
export {
  IntakeHandler,
  type IntakeDependencies,
  type IntakeOptions,
  type MessageSigner,
} from './intake-handler';
export { MxHandler } from './mx-handler';
export { SubmissionHandler } from './submission-handler';
export { loadTlsMaterial, type TlsMaterial } from './tls-material';
export { startMx, startSubmission, type RunningSmtpService, type SmtpServiceContext } from './smtp-service';
export { PrismaDkimKeyStore, type DkimKeyStore } from './dkim-keys';
