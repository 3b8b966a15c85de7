// Types for the part of mailauth's DKIM signer that @mta/policy uses. mailauth ships types for
// `dkimSign` and `DkimSignStream` only; the Writable `DkimSigner` under them is what lets a
// message be hashed as it streams without a second copy of it.
declare module 'mailauth/lib/dkim/dkim-signer' {
  import { Writable } from 'node:stream';

  export interface ParsedHeaderLine {
    /** lower-case field name */
    key: string | null;
    /** field name as written */
    casedKey: string | undefined;
    line: Buffer;
  }

  export interface DkimSignatureData {
    signingDomain: string;
    selector: string;
    privateKey: string | Buffer;
    algorithm?: string;
    canonicalization?: string;
  }

  export interface DkimSignerOptions {
    canonicalization?: string;
    headerList?: string | string[];
    signTime?: Date | number;
    signatureData: DkimSignatureData[];
    strict?: boolean;
  }

  export class DkimSigner extends Writable {
    constructor(options: DkimSignerOptions);
    /** The DKIM-Signature fields made, folded, without the final CRLF; set at 'finish'. */
    signatureHeaders: string[];
    errors: { selector?: string; signingDomain?: string; err: Error }[];
    messageHeaders(headers: { parsed: ParsedHeaderLine[]; original: Buffer }): Promise<void>;
  }
}
