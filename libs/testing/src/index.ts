export { freePort, portFreeOn } from './free-port';
export { DOVECOT, haveDovecotLmtp, startDovecot, type Dovecot, type DovecotUser } from './dovecot';
export { createTestRedis, TEST_REDIS_URL } from './test-redis';
export { selfSignedCertificate, type TestCertificate } from './certificates';
export { startTcpProxy, type TcpProxy } from './tcp-proxy';
export { createTestDatabase, TEST_DATABASE_SERVER_URL, type TestDatabase } from './test-database';
export {
  startFakeDns,
  startFakeDnsServer,
  mxRecord,
  aRecord,
  aaaaRecord,
  txtRecord,
  ptrRecord,
  cnameRecord,
  type FakeDnsOptions,
  type FakeDnsServer,
  type FakeRecord,
  type Fault,
} from './fake-dns-server';
export { hasBinary, sleep, spawnPeer, waitForPort, type Spawned } from './peer-process';
export {
  havePostfixBinary,
  startPostfixInstance,
  type PostfixInstance,
  type PostfixInstanceOptions,
} from './postfix-instance';
export { requirePeer } from './required-peer';
export { haveSwaks, runSwaks } from './swaks';
export { until } from './until';
export { collectJsonLogs } from './json-logs';
export { expectNoLeaks, resourceCounts, type ResourceCounts } from './leak-check';
export {
  haveSmtpSink,
  parseSmtpSinkDump,
  SMTP_SINK,
  startSmtpSink,
  type SinkDump,
  type SmtpSink,
  type SmtpSinkOptions,
} from './smtp-sink';
export {
  haveOpendkimTestmsg,
  havePythonDkim,
  opendkimSign,
  opendkimVerify,
  pythonDkimSign,
  pythonDkimVerify,
  testDkimKey,
  dkimRecords,
  type PeerVerdict,
  type TestDkimKey,
} from './dkim-peers';
export { pythonArcSign, pythonArcVerify } from './arc-peers';
export { createTestCa, type IssuedCertificate, type TestCa } from './test-ca';
export { startStarttlsStripper, type StarttlsStripper } from './starttls-stripper';
export {
  havePostfixMx,
  startPostfixMx,
  type HeldMessage,
  type PostfixMx,
  type PostfixMxOptions,
} from './postfix-mx';
export { mtaStsPolicy, startMtaStsServer, type MtaStsServer, type PolicyHost } from './mta-sts-server';
export { startRequireTlsPeer, type ReceivedTransaction, type RequireTlsPeer } from './requiretls-peer';
export {
  haveValidatingResolver,
  startValidatingResolver,
  type TestZone,
  type ValidatingResolver,
} from './validating-resolver';
export {
  pythonWebhookVerify,
  startWebhookReceiver,
  type Answer,
  type ReceivedWebhook,
  type WebhookReceiver,
} from './webhook-receiver';
