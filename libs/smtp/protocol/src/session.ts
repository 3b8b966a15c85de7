/**
 * The SMTP session state machine (RFC 5321 §3.3, §4.1.4, §4.3.2), pure: it never touches a socket.
 *
 *   connected ──HELO/EHLO──▶ greeted ──MAIL──▶ mail ──RCPT──▶ rcpt ──DATA──▶ data
 *                                                                 └──BDAT──▶ bdat
 *   data/bdat ──endTransaction()──▶ greeted;  RSET, HELO/EHLO: back to greeted (or connected)
 *   greeted ──STARTTLS──▶ starttls ──tlsStarted()──▶ connected   (RFC 3207 §4.2)
 *   greeted ──AUTH──▶ auth ──authSucceeded()/authEnded()──▶ greeted   (RFC 4954 §4)
 *   any ──QUIT──▶ closed
 *
 * Use: `check(cmd)` before asking your handler (policy, recipient lookup); `apply(cmd)` once the
 * command is accepted, which checks again and moves the state. A rejected MAIL or RCPT is simply
 * not applied, so it changes nothing.
 */
import type { Address } from './address';
import type { MailParams, RcptParams, SmtpCommand } from './command';
import type { ParseOptions } from './command-parser';
import {
  activeExtensions,
  NO_EXTENSIONS,
  type ActiveExtensions,
  type ServerCapabilities,
} from './extensions';
import type { SmtpError } from './reply';
import { Replies } from './replies';

export type SessionState =
  'connected' | 'greeted' | 'mail' | 'rcpt' | 'data' | 'bdat' | 'starttls' | 'auth' | 'closed';

export interface SessionOptions {
  /** What the server offers (EHLO keywords, SIZE limit, AUTH mechanisms...). */
  readonly capabilities?: ServerCapabilities;
  /** The connection is already TLS (implicit TLS, port 465). */
  readonly tls?: boolean;
  /** Refuse MAIL with 530 5.7.0 until TLS is up (RFC 3207 §4). */
  readonly requireTls?: boolean;
  /** Refuse MAIL with 530 5.7.0 until authenticated (RFC 4954 §6; submission, RFC 6409). */
  readonly requireAuth?: boolean;
  /** Recipients per transaction; the next RCPT gets 452 4.5.3 (RFC 5321 §4.5.3.1.10). */
  readonly maxRecipients?: number;
}

export interface Recipient {
  readonly address: Address;
  readonly postmaster: boolean;
  readonly params: RcptParams;
}

/** The mail transaction being built (RFC 5321 §3.3). */
export interface Transaction {
  readonly from: Address | null;
  readonly params: MailParams;
  readonly recipients: readonly Recipient[];
  /** How the body is being sent, once DATA or the first BDAT was accepted. */
  readonly body: 'data' | 'bdat' | null;
  /** BDAT ... LAST was accepted: the next step is `endTransaction()`. */
  readonly lastChunkSeen: boolean;
}

export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly error: SmtpError };

const ALLOWED: Verdict = Object.freeze({ allowed: true });
const refuse = (error: SmtpError): Verdict => ({ allowed: false, error });

/**
 * `activeExtensions` depends only on the capabilities and two flags, and sessions of one server
 * share their capabilities: computed once per combination instead of several times per command.
 * The results are frozen, as they are shared.
 */
const extensionCache = new WeakMap<ServerCapabilities, (ActiveExtensions | undefined)[]>();
function cachedExtensions(caps: ServerCapabilities, tls: boolean, authenticated: boolean): ActiveExtensions {
  let byFlags = extensionCache.get(caps);
  if (byFlags === undefined) extensionCache.set(caps, (byFlags = []));
  const i = (tls ? 1 : 0) + (authenticated ? 2 : 0);
  return (byFlags[i] ??= freezeExtensions(activeExtensions(caps, { tls, authenticated })));
}

function freezeExtensions(ext: ActiveExtensions): ActiveExtensions {
  Object.freeze(ext.auth);
  return Object.freeze(ext);
}

function usesExtension(p: MailParams): boolean {
  return (
    p.size !== undefined ||
    p.body !== undefined ||
    p.smtpUtf8 ||
    p.ret !== undefined ||
    p.envid !== undefined ||
    p.requireTls ||
    p.auth !== undefined
  );
}

export class SmtpSession {
  private _state: SessionState = 'connected';
  private _greeting: { readonly verb: 'HELO' | 'EHLO'; readonly domain: string } | null = null;
  private _tls: boolean;
  private _user: string | null = null;
  private _tx: Transaction | null = null;
  private readonly caps: ServerCapabilities;
  /** The last `parseOptions` answer, handed out again while nothing it depends on changed. */
  private lastParseOptions: (ParseOptions & { readonly extensions: ActiveExtensions }) | null = null;

  constructor(private readonly options: SessionOptions = {}) {
    this.caps = options.capabilities ?? {};
    this._tls = options.tls === true;
  }

  get state(): SessionState {
    return this._state;
  }
  /** The last HELO/EHLO, or null before it (and after STARTTLS). */
  get greeting(): { readonly verb: 'HELO' | 'EHLO'; readonly domain: string } | null {
    return this._greeting;
  }
  get tls(): boolean {
    return this._tls;
  }
  /** The authenticated identity, or null. */
  get user(): string | null {
    return this._user;
  }
  get transaction(): Transaction | null {
    return this._tx;
  }

  /** Extensions in force: none before EHLO or after HELO (RFC 5321 §4.1.1.1). */
  get extensions(): ActiveExtensions {
    if (this._greeting?.verb !== 'EHLO') return NO_EXTENSIONS;
    return this.advertised;
  }

  /** What to advertise in the reply to an EHLO right now (before applying it). */
  get advertised(): ActiveExtensions {
    return cachedExtensions(this.caps, this._tls, this._user !== null);
  }

  /** Options for `parseCommand` that match this session. */
  get parseOptions(): ParseOptions {
    let extensions = this.extensions;
    // RFC 4954 §5: the AUTH extension stays in force after a successful AUTH (MAIL ... AUTH=),
    // although it is no longer advertised; a second AUTH command is refused by `check` (503).
    if (this._user !== null && this._greeting?.verb === 'EHLO' && extensions.auth.length === 0) {
      const mechanisms = (this.caps.authMechanisms ?? []).map((m) => m.toUpperCase());
      if (mechanisms.length > 0) extensions = { ...extensions, auth: mechanisms };
    }
    const smtpUtf8 = this._tx?.params.smtpUtf8 === true;
    // Asked for every command line: the same object as long as the answer is the same.
    const last = this.lastParseOptions;
    if (last !== null && last.extensions === extensions && last.smtpUtf8 === smtpUtf8) return last;
    return (this.lastParseOptions = { extensions, smtpUtf8 });
  }

  /** May this command be given now? Changes nothing. */
  check(cmd: SmtpCommand): Verdict {
    switch (this._state) {
      case 'closed':
        return refuse(Replies.badSequence('Session closed'));
      case 'data':
        return refuse(Replies.badSequence('Message data in progress'));
      case 'starttls':
        return refuse(Replies.badSequence('TLS negotiation in progress'));
      case 'auth':
        return refuse(Replies.badSequence('Authentication in progress'));
      default:
        break;
    }
    const ext = this.extensions;
    const tx = this._tx;
    switch (cmd.verb) {
      case 'HELO':
      case 'EHLO':
      case 'RSET':
      case 'NOOP':
      case 'HELP':
      case 'VRFY':
      case 'QUIT':
        return ALLOWED;
      case 'MAIL':
        if (!this._greeting) return refuse(Replies.badSequence('Send HELO/EHLO first'));
        if (tx) return refuse(Replies.badSequence('Nested MAIL command'));
        if (this.options.requireTls && !this._tls) return refuse(Replies.tlsRequired());
        if (this.options.requireAuth && this._user === null) return refuse(Replies.authRequired());
        return this.checkMailParams(cmd.params, ext);
      case 'RCPT':
        if (!tx) return refuse(Replies.badSequence('Need MAIL before RCPT'));
        if (tx.body !== null) return refuse(Replies.badSequence('RCPT not allowed after BDAT'));
        if (this.options.maxRecipients !== undefined && tx.recipients.length >= this.options.maxRecipients) {
          return refuse(Replies.tooManyRecipients());
        }
        if ((cmd.params.notify || cmd.params.orcpt) && !ext.dsn)
          return refuse(Replies.unknownParameter('NOTIFY/ORCPT'));
        return ALLOWED;
      case 'DATA':
        if (!tx) return refuse(Replies.badSequence('Need MAIL before DATA'));
        if (tx.body === 'bdat') return refuse(Replies.badSequence('DATA cannot be mixed with BDAT'));
        if (tx.recipients.length === 0) return refuse(Replies.badSequence('Need RCPT before DATA'));
        // RFC 3030 §3: BINARYMIME content must be sent with BDAT.
        if (tx.params.body === 'BINARYMIME')
          return refuse(Replies.badSequence('BODY=BINARYMIME requires BDAT'));
        return ALLOWED;
      case 'BDAT':
        if (!ext.chunking) return refuse(Replies.notImplemented('BDAT', this.esmtpOnly()));
        if (!tx) return refuse(Replies.badSequence('Need MAIL before BDAT'));
        if (tx.recipients.length === 0) return refuse(Replies.badSequence('Need RCPT before BDAT'));
        if (tx.lastChunkSeen) return refuse(Replies.badSequence('BDAT after the LAST chunk'));
        return ALLOWED;
      case 'STARTTLS':
        if (this._tls) return refuse(Replies.badSequence('TLS already active'));
        if (!ext.startTls) return refuse(Replies.notImplemented('STARTTLS', this.esmtpOnly()));
        if (tx) return refuse(Replies.badSequence('STARTTLS not allowed during a mail transaction'));
        return ALLOWED;
      case 'AUTH':
        return this.checkAuth(cmd.mechanism, ext);
    }
  }

  /** `check`, then move the state. Returns the verdict; a refusal changes nothing. */
  apply(cmd: SmtpCommand): Verdict {
    const verdict = this.check(cmd);
    if (!verdict.allowed) return verdict;
    switch (cmd.verb) {
      case 'HELO':
      case 'EHLO':
        // RFC 5321 §4.1.4: HELO/EHLO reset any transaction in progress.
        this._greeting = { verb: cmd.verb, domain: cmd.domain };
        this.reset();
        break;
      case 'RSET': // RFC 5321 §4.1.1.5
        this.reset();
        break;
      case 'QUIT':
        this._tx = null;
        this._state = 'closed';
        break;
      case 'MAIL':
        this._tx = { from: cmd.from, params: cmd.params, recipients: [], body: null, lastChunkSeen: false };
        this._state = 'mail';
        break;
      case 'RCPT':
        if (this._tx) {
          const r: Recipient = { address: cmd.to, postmaster: cmd.postmaster, params: cmd.params };
          this._tx = { ...this._tx, recipients: [...this._tx.recipients, r] };
        }
        this._state = 'rcpt';
        break;
      case 'DATA':
        if (this._tx) this._tx = { ...this._tx, body: 'data' };
        this._state = 'data';
        break;
      case 'BDAT':
        if (this._tx) this._tx = { ...this._tx, body: 'bdat', lastChunkSeen: cmd.last };
        this._state = 'bdat';
        break;
      case 'STARTTLS':
        this._state = 'starttls';
        break;
      case 'AUTH':
        this._state = 'auth';
        break;
      case 'NOOP':
      case 'HELP':
      case 'VRFY':
        break;
    }
    return verdict;
  }

  /**
   * The message is done (end of DATA, or the BDAT LAST chunk processed), whether it was accepted
   * or refused, or a BDAT chunk failed (RFC 3030 §4): the transaction is cleared (RFC 5321 §4.1.1.4).
   */
  endTransaction(): void {
    if (this._state === 'closed' || this._state === 'starttls' || this._state === 'auth') return;
    this.reset();
  }

  /**
   * The TLS handshake after STARTTLS succeeded. RFC 3207 §4.2: the server MUST discard any
   * knowledge obtained from the client (EHLO argument, authentication) and expect a new EHLO.
   * The server must also drop anything the client pipelined before the handshake.
   */
  tlsStarted(): void {
    this._tls = true;
    this._greeting = null;
    this._user = null;
    this._tx = null;
    this._state = 'connected';
  }

  /** The SASL exchange succeeded for `identity` (RFC 4954 §6). */
  authSucceeded(identity: string): void {
    if (this._state !== 'auth') throw new Error('authSucceeded() outside an AUTH exchange');
    this._user = identity;
    this._state = 'greeted';
  }

  /** The SASL exchange failed or was cancelled; the client may try again. */
  authEnded(): void {
    if (this._state === 'auth') this._state = 'greeted';
  }

  private reset(): void {
    this._tx = null;
    this._state = this._greeting ? 'greeted' : 'connected';
  }

  private esmtpOnly(): string {
    return this._greeting?.verb === 'HELO' ? 'not available after HELO, use EHLO' : 'Command not implemented';
  }

  private checkMailParams(p: MailParams, ext: ActiveExtensions): Verdict {
    if (this._greeting?.verb === 'HELO' && usesExtension(p)) {
      return refuse(Replies.unknownParameter('(ESMTP parameters need EHLO)'));
    }
    if (p.size !== undefined && ext.size === null) return refuse(Replies.unknownParameter('SIZE'));
    if (p.smtpUtf8 && !ext.smtpUtf8) return refuse(Replies.unknownParameter('SMTPUTF8'));
    if (p.requireTls && !ext.requireTls) return refuse(Replies.unknownParameter('REQUIRETLS'));
    if ((p.ret !== undefined || p.envid !== undefined) && !ext.dsn)
      return refuse(Replies.unknownParameter('RET/ENVID'));
    if (p.body === 'BINARYMIME' && !ext.binaryMime)
      return refuse(Replies.unknownParameter('BODY=BINARYMIME'));
    // RFC 1870 §6.1: a declared size above the fixed limit is refused at MAIL.
    const limit = ext.size;
    if (p.size !== undefined && limit !== null && limit > 0 && p.size > limit) {
      return refuse(Replies.messageTooBig(limit));
    }
    return ALLOWED;
  }

  private checkAuth(mechanism: string, ext: ActiveExtensions): Verdict {
    if (this._greeting?.verb !== 'EHLO') {
      return refuse(
        this._greeting
          ? Replies.notImplemented('AUTH', this.esmtpOnly())
          : Replies.badSequence('Send EHLO first'),
      );
    }
    // RFC 4954 §4: "After a successful AUTH command completes, a server MUST reject any further
    // AUTH commands with a 503 reply." and AUTH is not permitted during a mail transaction.
    if (this._user !== null) return refuse(Replies.badSequence('Already authenticated'));
    if (this._tx) return refuse(Replies.badSequence('AUTH not allowed during a mail transaction'));
    if (ext.auth.length === 0) {
      const offeredAfterTls = (this.caps.authMechanisms?.length ?? 0) > 0 && !this._tls;
      return refuse(offeredAfterTls ? Replies.encryptionRequiredForAuth() : Replies.notImplemented('AUTH'));
    }
    if (!ext.auth.includes(mechanism.toUpperCase())) return refuse(Replies.unknownAuthMechanism());
    return ALLOWED;
  }
}
