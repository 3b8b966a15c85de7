export {
  MxResolver,
  type MxResolverOptions,
  type MxHost,
  type MxResult,
  type MxSuccess,
} from './mx-resolver';
export { DnsCache, type DnsCacheOptions } from './cache';
export { type DnsReply, type MxFailure } from './replies';
export { type AddressPreference, type MxAddress, type RandomSource } from './order';
export { type DnsServer } from './transport';
export { parseServer } from './servers';
export {
  createDnsResolve,
  DnsResolveError,
  type DnsAnswer,
  type DnsResolveFunction,
  type DnsResolveOptions,
  type MxRecordAnswer,
} from './resolve-function';
export {
  lookupSecureMx,
  lookupTlsa,
  type SecureLookup,
  type SecureLookupOptions,
  type TlsaRecord,
} from './secure';
