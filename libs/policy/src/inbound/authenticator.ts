/**
 * The checks that need the message: DKIM (RFC 6376, RFC 8463 Ed25519) of every signature, the
 * ARC chain (RFC 8617) and DMARC (RFC 7489, with mailauth's organizational domain discovery),
 * fed the message as it streams in. mailauth's DKIM verifier is a Writable that hashes the body
 * as it comes and keeps only the header block, so the message is never held a second time.
 */
import { PassThrough } from 'node:stream';
import {
  arc,
  createSeal,
  dkimVerify,
  type ARCResult,
  type DKIMResult,
  type DKIMVerifyResult,
  type DNSResolver,
} from 'mailauth';
import { evaluateDmarc } from 'mailauth/lib/dmarc';
import { spfPassDomain, type SpfVerdict } from './spf';
import type { ArcVerdict, AuthVerdict, DkimVerdict, DmarcVerdict } from './verdict';

export interface AuthenticatorOptions {
  resolver: DNSResolver;
  /** the reverse-path, `''` for `<>` */
  sender: string;
  /** RSA keys shorter than this fail (RFC 8301 §3.2: at least 1024) */
  minBitLength?: number;
  /**
   * Seal the message with this key (RFC 8617 §5.1) because we pass it on (relay domains):
   * the body hash of the ARC-Message-Signature is computed as the message streams.
   */
  seal?: SealingKey;
}

/** An RSA key of ours for ARC (RFC 8617 §4.1.3 specifies rsa-sha256 for the ARC-Seal). */
export interface SealingKey {
  domain: string;
  selector: string;
  /** PKCS#8 PEM */
  privateKey: string | Buffer;
}

export interface SealResult {
  /** ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results, CRLF-terminated, in that order */
  fields: string[];
  /** why no seal was made (a failed chain, an unusable key); null when sealed or not asked */
  error: string | null;
}

export class MessageAuthenticator {
  private readonly input = new PassThrough();
  private readonly verifying: Promise<DKIMVerifyResult | Error>;
  private settled = false;
  private verified: { dkim: DKIMVerifyResult; arc: ARCResult | null } | null = null;

  constructor(private readonly options: AuthenticatorOptions) {
    this.verifying = dkimVerify(this.input, {
      resolver: options.resolver,
      sender: options.sender || undefined,
      minBitLength: options.minBitLength,
      seal: options.seal && {
        signingDomain: options.seal.domain,
        selector: options.seal.selector,
        privateKey: options.seal.privateKey,
        algorithm: 'rsa-sha256',
      },
    }).then(
      (result) => result,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    void this.verifying.then(() => (this.settled = true));
  }

  /** Feeds the next piece of the message as received; waits while the verifier catches up. */
  async write(chunk: Buffer): Promise<void> {
    if (this.settled || this.input.destroyed) return;
    if (this.input.write(chunk)) return;
    await Promise.race([new Promise((resolve) => this.input.once('drain', resolve)), this.verifying]);
  }

  /** The end of the message: DKIM results, then ARC and DMARC. Never throws. */
  async finish(spf: SpfVerdict): Promise<AuthVerdict> {
    this.input.end();
    const dkim = await this.verifying;
    if (dkim instanceof Error) {
      const error = `message could not be parsed: ${dkim.message}`;
      return {
        spf,
        dkim: [],
        arc: { result: 'none', instance: null, sealer: null, comment: null, info: null },
        dmarc: null,
        error,
      };
    }
    const arcResult = await this.arc(dkim);
    this.verified = { dkim, arc: arcResult };
    const dmarc = await this.dmarc(dkim, spf, arcResult);
    return { spf, dkim: dkim.results.map(dkimVerdict), arc: arcVerdict(arcResult), dmarc, error: null };
  }

  /**
   * After `finish`: the ARC set to put on top of the message we pass on (RFC 8617 §5.1), with
   * `authResults` (our Authentication-Results value, from the authserv-id on) as its
   * ARC-Authentication-Results. A chain that already failed is not sealed (§5.1.2, as mailauth's
   * `authenticate` does).
   */
  async seal(authResults: string): Promise<SealResult> {
    const dkim = this.verified?.dkim;
    if (!this.options.seal || !dkim?.seal) return { fields: [], error: null };
    const status = this.verified?.arc?.status;
    const cv = status?.result ?? 'none';
    if (!['none', 'pass'].includes(cv) && !status?.shouldSeal) {
      return { fields: [], error: `ARC chain ${cv}: not sealed` };
    }
    const sealed = await createSeal(false, {
      headers: dkim.headers,
      arc: dkim.arc,
      seal: { ...dkim.seal, cv, authResults, signTime: new Date() },
    });
    if (sealed.errors.length || sealed.headers.length === 0) {
      return { fields: [], error: sealed.errors.map((e) => e.err.message).join('; ') || 'not sealed' };
    }
    return { fields: sealed.headers.map((h) => `${h.replace(/\r?\n$/, '')}\r\n`), error: null };
  }

  /** The transaction ended without a message (client gone, size limit): stop. */
  abort(): void {
    this.input.destroy();
  }

  private async arc(dkim: DKIMVerifyResult): Promise<ARCResult | null> {
    if (!dkim.arc) return null;
    return arc(
      { ...dkim.arc, chain: dkim.arc.chain || [] },
      {
        resolver: this.options.resolver,
        minBitLength: this.options.minBitLength,
      },
    );
  }

  private async dmarc(
    dkim: DKIMVerifyResult,
    spf: SpfVerdict,
    arcResult: ARCResult | null,
  ): Promise<DmarcVerdict | null> {
    const spfDomain = spfPassDomain(spf, this.options.sender);
    const { response, reason } = await evaluateDmarc({
      headerFrom: dkim.headerFrom,
      fromFields: dkim.fromFields,
      spfDomains: spfDomain ? [spfDomain] : [],
      dkimDomains: dkim.results
        .filter((r) => r.status.result === 'pass' && r.signingDomain)
        .map((r) => ({
          id: r.id,
          domain: r.signingDomain ?? '',
          aligned: r.status.aligned,
          underSized: r.status.underSized,
        })),
      arcResult: arcResult ?? undefined,
      resolver: this.options.resolver,
    });
    if (!response) {
      // RFC 7489 §6.6.1: no single author domain, DMARC cannot be applied; reported, not enforced.
      return reason
        ? {
            result: 'none',
            fromDomain: null,
            policy: null,
            published: null,
            pct: null,
            record: null,
            alignment: null,
            comment: reason,
            info: null,
          }
        : null;
    }
    return {
      result: response.status.result,
      fromDomain: response.status.header?.from ?? null,
      policy: response.status.result === 'temperror' ? null : response.policy,
      published: response.p
        ? { p: response.p, sp: response.sp, np: response.np ?? null, testing: response.testMode }
        : null,
      pct: percentOf(response.rr),
      record: response.rr ?? null,
      alignment: response.alignment
        ? { spf: response.alignment.spf.result ?? null, dkim: response.alignment.dkim.result ?? null }
        : null,
      comment: response.error ?? response.status.comment ?? null,
      info: response.info,
    };
  }
}

function dkimVerdict(r: DKIMResult): DkimVerdict {
  return {
    domain: r.signingDomain ?? null,
    selector: r.selector ?? null,
    algorithm: r.algo ?? null,
    result: r.status.result,
    aligned: r.status.aligned || null,
    comment: r.status.comment ?? null,
    info: r.info,
  };
}

function arcVerdict(r: ARCResult | null): ArcVerdict {
  if (!r) return { result: 'none', instance: null, sealer: null, comment: null, info: null };
  const sealer = r.signature ? (r.signature.signingDomain ?? null) : null;
  return {
    result: r.status.result,
    instance: typeof r.i === 'number' ? r.i : null,
    sealer,
    comment: r.status.comment ?? null,
    info: r.info ?? null,
  };
}

/** RFC 7489 §6.3 `pct`: 0-100, default 100. (Dropped by RFC 9989; still published widely.) */
function percentOf(record: string | undefined): number | null {
  const match = record ? /(?:^|;)\s*pct\s*=\s*(\d{1,3})\s*(?:;|$)/i.exec(record) : null;
  if (!match) return null;
  return Math.min(100, Number(match[1]));
}
