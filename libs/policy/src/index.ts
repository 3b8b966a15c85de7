// @mta/policy: the checks of the policy service as plain functions over a context (no Nest, no
// BullMQ): SPF, DKIM, DMARC and ARC through mailauth, DKIM signing, DNSBL, greylisting, rate
// limits, and the client the SMTP services use to ask the policy service.
export {
  DkimStreamSigner,
  dkimSignMessage,
  SIGNED_HEADER_FIELDS,
  signingKeys,
  type DkimKeyAlgorithm,
  type DkimSignResult,
  type DkimSigningKey,
  type StoredDkimKey,
} from './dkim-signer';
export * from './inbound';
