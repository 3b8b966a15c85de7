/**
 * @mta/smtp-protocol — the pure SMTP protocol: commands, replies, addresses, session state,
 * DATA/BDAT framing and SASL decoding. No I/O.
 */
export {
  formatReply,
  isEnhancedCode,
  replyClass,
  replyText,
  replyToBuffer,
  smtpReply,
  SmtpError,
  type SmtpReply,
} from './reply';
export { MAX_REPLY_LINE, MAX_REPLY_LINES, ReplyProtocolError, ReplyReader } from './reply-reader';
export { Replies } from './replies';
export {
  domainLower,
  formatPath,
  hasNonAscii,
  isDomain,
  isDomainOrAddressLiteral,
  localPartValue,
  MAX_DOMAIN_OCTETS,
  MAX_LOCAL_PART_OCTETS,
  MAX_PATH_OCTETS,
  parseMailbox,
  parsePath,
  type Address,
  type AddressFailure,
  type MailboxResult,
  type PathOptions,
  type PathResult,
} from './address';
export { isAddressLiteral, isIPv4Literal, isIPv6Address } from './address-literal';
export { decodeXtext, encodeXtext } from './xtext';
export type {
  AuthCommand,
  BareCommand,
  BdatCommand,
  BodyType,
  HeloCommand,
  MailCommand,
  MailParams,
  NotifyCondition,
  OriginalRecipient,
  RcptCommand,
  RcptParams,
  SmtpCommand,
  SmtpVerb,
  TextArgCommand,
} from './command';
export { MAX_COMMAND_LINE_OCTETS, parseCommand, type ParseOptions, type ParseResult } from './command-parser';
export { MAX_ENVID_LENGTH } from './parameters';
export {
  activeExtensions,
  ALL_EXTENSIONS,
  ehloKeywords,
  ehloReply,
  heloReply,
  NO_EXTENSIONS,
  type ActiveExtensions,
  type ExtensionContext,
  type ServerCapabilities,
} from './extensions';
export { parseCapabilityLines, parseEhloReply, type EhloCapabilities } from './capabilities';
export {
  SmtpSession,
  type Recipient,
  type SessionOptions,
  type SessionState,
  type Transaction,
  type Verdict,
} from './session';
export { DataDecoder, type DataDecoderOptions, type DataEnd, type DataFeedResult } from './data-decoder';
export {
  assertCrlf,
  assertNoNul,
  NulError,
  BareLineEndingError,
  DotStuffer,
  dotStuff,
  EightBitError,
  hasEightBit,
  type DotStufferOptions,
} from './dot-stuffer';
export { BdatDecoder, type BdatChunkEnd, type BdatDecoderOptions, type BdatFeedResult } from './bdat-decoder';
export {
  createSaslMechanism,
  decodeBase64Strict,
  MAX_AUTH_LINE_OCTETS,
  SaslLogin,
  SaslPlain,
  type SaslCredentials,
  type SaslMechanism,
  type SaslStep,
} from './sasl';
export { BARE_NEWLINE_POLICIES, type BareNewlinePolicy } from './content-rules';
