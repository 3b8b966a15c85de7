/**
 * @mta/mail — message handling for the intake and the queue: the header block (streaming split,
 * lookup, From/Date/Message-ID/Subject), trace and submission fields, and DSN composition.
 * Plain TypeScript over Node streams; of ours it imports only @mta/smtp-protocol.
 */
export {
  DEFAULT_MAX_HEADER_BYTES,
  HeaderSplitter,
  type HeaderSplitterOptions,
  type SplitResult,
} from './header-splitter';
export { HeaderBlock } from './header-block';
export { parseHeaderFields, unfold, type HeaderField } from './header-fields';
export {
  composeMessage,
  HeaderSplitStream,
  prependHeaders,
  type HeaderLines,
  type PrependHeadersOptions,
} from './header-stream';
export { HeaderTooLargeError, TooManyHopsError } from './errors';
export { checkHops, DEFAULT_MAX_HOPS } from './hops';
export {
  mailboxDomains,
  parseMailboxList,
  parseMailboxListStrict,
  type Mailbox,
  type StrictMailboxList,
} from './address-list';
export { decodeEncodedWords } from './encoded-word';
export { formatDate, parseDate } from './date';
export {
  generateMessageId,
  parseMessageId,
  submissionHeaders,
  type SubmissionFixOptions,
} from './message-id';
export { foldHeader, MAX_LINE_LENGTH } from './fold';
export {
  addressLiteral,
  buildReceived,
  receivedProtocol,
  traceSafe,
  type ReceivedOptions,
  type ReceivedProtocol,
  type ReceivedTls,
} from './received';
export { canSendDsn, shouldNotify, type DsnAction, type NotifyDefaults } from './dsn/notify';
export {
  addressField,
  formatDeliveryStatus,
  needsGlobal,
  type DeliveryStatusInfo,
  type DsnRecipient,
} from './dsn/delivery-status';
export { adviceFor, humanReadableText, type HumanTextInput } from './dsn/human-text';
export {
  composeDsn,
  DEFAULT_MAX_RETURN_SIZE,
  NullSenderError,
  type ComposedDsn,
  type DsnOptions,
  type OriginalMessage,
} from './dsn/compose';
export { defaultSrsDomain, Srs, srsFromConfig, type SrsError, type SrsOptions, type SrsReverse } from './srs';
