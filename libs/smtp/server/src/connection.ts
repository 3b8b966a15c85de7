/**
 * One SMTP session over one socket: framing input, batching replies, timeouts, backpressure,
 * STARTTLS and the end of the connection. The commands live in `commands/` (guards in `dispatch`).
 *
 * RFC 2920 §3.1: every complete command available is processed in order, and the replies are
 * written in one batch once no complete input is left. One hook runs at a time; meanwhile input
 * waits (the socket is paused if too much piles up).
 */
import type net from 'node:net';
import type tls from 'node:tls';
import {
  formatReply,
  MAX_AUTH_LINE_OCTETS,
  Replies,
  SmtpError,
  SmtpSession,
  type SaslMechanism,
  type SmtpReply,
} from '@mta/smtp-protocol';
import { TransferAbortedError, type BodyTransfer } from './body-transfer';
import { skipChunk } from './commands/data';
import { dispatch } from './commands/dispatch';
import { isThenable, refusal } from './commands/refusal';
import { saslLine } from './commands/auth';
import type { ListenerOptions, ResolvedOptions } from './options';
import { LineReader, TOO_LONG } from './line-reader';
import { Mode } from './mode';
import { BAD_COMMAND_CODES, ServerReplies } from './server-replies';
import { LiveSessionInfo, tlsInfoOf } from './session-info';
import { SessionTimer, shortestTimeout } from './session-timer';
import { upgradeToTls } from './tls-upgrade';

/** Pause reasons (bit flags): the socket is read only when none is set. */
const PAUSE_BODY = 1;
const PAUSE_WRITE = 2;
const PAUSE_INPUT = 4;
/** Cut off (`cutOff`): never read again. */
const PAUSE_CUT = 8;
/** Unanswered output or unprocessed input above this pauses reading. */
const WRITE_HIGH_WATER = 256 * 1024;
const INPUT_HIGH_WATER = 64 * 1024;
/** After QUIT or a 421: wait this long for the client to close before destroying the socket. */

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly options: ResolvedOptions;
  /** Rendered EHLO replies by state (they depend only on TLS and AUTH). */
  readonly ehloCache: Map<string, Buffer>;
  released(conn: Connection): void;
}

export class Connection {
  mode: Mode = Mode.Greeting;
  readonly session: SmtpSession;
  readonly input = new LineReader();
  body: BodyTransfer | null = null;
  sasl: SaslMechanism | null = null;
  /** BDAT chunk refused: octets still to throw away, then the reply. */
  skip: { remaining: number; reply: SmtpError } | null = null;
  /** The server is closing: answer 421 4.3.2 as soon as no transaction is in progress. */
  draining = false;
  /** The shutdown deadline came while a hook was answering: 421 right after its reply. */
  private closeWhenAnswered = false;
  readonly options: ResolvedOptions;
  private out: Buffer[] = [];
  private busy = false;
  private paused = 0;
  private badCommands = 0;
  private readonly timer: SessionTimer;
  /** When the pending hook started, and how to give up on it (`hookTimeout`). */
  private hookStarted = 0;
  private hookExpired: (() => void) | null = null;
  private released = false;
  /** In a body: when the client must have sent more (`dataTimeout`, extended by `minDataRate`). */
  private dataDeadline = 0;
  /** When the current body must be complete (`dataPhaseTimeout`); 0: none. */
  private phaseEnd = 0;

  constructor(
    private socket: net.Socket,
    readonly info: LiveSessionInfo,
    readonly listener: ListenerOptions,
    readonly host: ConnectionHost,
  ) {
    this.options = host.options;
    const o = this.options;
    this.session = new SmtpSession({
      capabilities: o.capabilities,
      tls: info.tls !== null,
      requireTls: listener.requireTls ?? o.requireTls,
      requireAuth: listener.requireAuth ?? o.requireAuth,
      maxRecipients: o.maxRecipients,
    });
    info.session = this.session;
    const period = shortestTimeout(o.idleTimeout, o.dataTimeout, o.dataPhaseTimeout, o.hookTimeout);
    this.timer = new SessionTimer(period, this.deadline, this.onTimeout);
  }

  get handler() {
    return this.options.handler;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Start the session: `early` is what the client sent before we said anything. */
  start(early: Buffer | null): void {
    this.watch(this.socket);
    if (early !== null && early.length > 0) return this.close(ServerReplies.earlyTalker());
    const greet = () => {
      if (this.mode !== Mode.Greeting) return;
      this.mode = Mode.Command;
      this.timer.watch();
      this.out.push(this.options.wire.greeting);
      this.pump();
    };
    const afterConnect = () => {
      const delay = this.options.greetingDelay;
      if (delay > 0) this.timer.set(delay, greet);
      else greet();
    };
    this.timer.watch();
    const onConnect = this.handler.onConnect;
    if (!onConnect) return afterConnect();
    this.hook(
      () => onConnect.call(this.handler, this.info),
      (r) => {
        const refused = refusal(r);
        if (refused) this.close(refused);
        else afterConnect();
      },
      false,
    );
  }

  private watch(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onSocketError);
    socket.once('close', this.onSocketClose);
  }

  private onSocketError = (err: Error & { code?: string }): void => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.options.onError(err, this.info);
    this.socket.destroy();
  };
  private onSocketClose = (): void => {
    this.mode = Mode.Closed;
    this.timer.clear();
    this.input.clear();
    this.body?.abort(new TransferAbortedError('Connection closed by the client'));
    this.body = null;
    if (this.released) return;
    this.released = true;
    this.host.released(this);
    try {
      this.handler.onClose?.(this.info);
    } catch (err) {
      this.options.onError(err, this.info);
    }
  };

  /**
   * Send `reply` (if any), flush and close after the client had a chance to read it.
   *
   * `lingering` (421 and other closes the client did not ask for): half-close and wait up to
   * `lingerMs` (5 s) for the client to close, reading and dropping what it still sends, so that a
   * client still talking gets our last reply rather than a reset. After QUIT (RFC 5321
   * §4.1.1.10) the client asked for the close and owes us nothing more: the socket is destroyed
   * as soon as the 221 is handed to the kernel (as Postfix closes after its 221),
   * instead of waiting for the client's close, typically a reset (smtp-source sets SO_LINGER 0)
   * that costs an error object with a stack trace per connection.
   */
  close(reply?: SmtpReply | SmtpError | Buffer, lingering = true): void {
    if (this.mode === Mode.Closed) return;
    if (reply) this.send(reply);
    this.flush();
    this.mode = Mode.Closed;
    this.input.clear();
    this.body?.abort(new TransferAbortedError('Connection closed'));
    this.body = null;
    const socket = this.socket;
    if (!lingering && socket.writableLength === 0 && !socket.destroyed) {
      this.timer.clear();
      // Everything is in the kernel: closing the descriptor sends it, then the FIN. TLS first
      // says close_notify (RFC 8446 §6.1), which `end` does.
      if (this.info.tls === null) socket.destroy();
      else socket.end(() => socket.destroy());
      return;
    }
    socket.end();
    this.timer.set(this.options.lingerMs, () => this.socket.destroy());
  }

  /** Octets of one message body past which an oversized one is cut off (`oversizeMargin`). */
  oversizeCutoff(): number {
    const max = this.options.maxMessageSize;
    return max > 0 ? max + this.options.oversizeMargin : Infinity;
  }

  /**
   * A client that goes on sending what we refused (an endless DATA, a huge BDAT chunk): `reply`
   * and close, reading nothing more (RFC 5321 §4.5.3.1.10, RFC 1870 §6).
   */
  cutOff(reply: SmtpError): void {
    this.pauseIf(PAUSE_CUT, true);
    this.input.clear();
    this.close(reply);
  }

  /** Graceful shutdown: idle sessions go now, busy ones when their transaction is over. */
  shutdown(): void {
    this.draining = true;
    if (this.isIdle()) this.close(ServerReplies.shuttingDown(this.options.hostname));
  }

  /**
   * Shutdown deadline: tell the client if we can, then go. A hook still answering (the commit of
   * a complete message among them) gives its reply first, then the 421: cutting the session now
   * would leave a stored message without its 250, and the client would send it again.
   */
  forceClose(): void {
    if (this.busy) {
      this.closeWhenAnswered = true;
      return;
    }
    if (this.mode === Mode.Command || this.mode === Mode.Greeting) {
      this.close(ServerReplies.shuttingDown(this.options.hostname));
    } else {
      this.mode = Mode.Closed;
      this.socket.destroy();
    }
  }

  private isIdle(): boolean {
    return (
      this.mode === Mode.Command && !this.busy && this.session.transaction === null && this.input.length === 0
    );
  }

  // ---- timers --------------------------------------------------------------------------------

  /**
   * The deadline that applies now (RFC 5321 §4.5.3.2, or the pending hook's), null for none. Per
   * record (Postfix's `smtpd_per_record_deadline`): a command line must be complete within
   * `idleTimeout` of when we began to wait for it (`timer.lastInput` is set then, not per byte);
   * a body must keep up with `minDataRate` and end within `dataPhaseTimeout`.
   */
  private deadline = (): number | null => {
    const o = this.options;
    if (this.busy) return o.hookTimeout > 0 ? this.hookStarted + o.hookTimeout : null;
    // Not the client's fault: the handler is not reading the body yet.
    if ((this.paused & PAUSE_BODY) !== 0) return null;
    const inBody = this.mode === Mode.Body || this.mode === Mode.Skip;
    const record = inBody
      ? o.dataTimeout > 0
        ? this.dataDeadline
        : Infinity
      : o.idleTimeout > 0
        ? this.timer.lastInput + o.idleTimeout
        : Infinity;
    // BDAT: the phase goes on between chunks, across their commands.
    const deadline = Math.min(record, this.body !== null && this.phaseEnd > 0 ? this.phaseEnd : Infinity);
    return deadline === Infinity ? null : deadline;
  };

  /** A body starts (DATA, or the first BDAT chunk): the whole of it has `dataPhaseTimeout`. */
  startBody(): void {
    const limit = this.options.dataPhaseTimeout;
    this.phaseEnd = limit > 0 ? Date.now() + limit : 0;
  }

  /** Body octets arrived: the data deadline moves on by what they are worth at `minDataRate`. */
  private bodyProgress(octets: number): void {
    const o = this.options;
    const now = Date.now();
    this.dataDeadline =
      o.minDataRate > 0
        ? Math.min(now + o.dataTimeout, this.dataDeadline + (octets * 1000) / o.minDataRate)
        : now + o.dataTimeout;
  }

  private onTimeout = (): void => {
    if (this.busy && this.hookExpired !== null) {
      this.timer.watch(); // before giving up on the hook, which may close (and set the linger)
      return this.hookExpired();
    }
    this.body?.abort(ServerReplies.timeout(this.options.hostname));
    this.body = null;
    this.close(ServerReplies.timeout(this.options.hostname));
  };

  // ---- input ---------------------------------------------------------------------------------

  private onData = (chunk: Buffer): void => {
    this.info.bytesReceived += chunk.length;
    if (this.mode === Mode.Closed || this.mode === Mode.Tls) return;
    if (this.mode === Mode.Greeting) return this.close(ServerReplies.earlyTalker());
    if (this.mode === Mode.Body || this.mode === Mode.Skip) this.bodyProgress(chunk.length);
    this.input.push(chunk);
    this.pump();
  };

  /** Process every complete unit of input, then write the replies in one batch. */
  pump(): void {
    while (!this.busy) {
      const mode = this.mode;
      if (mode === Mode.Command || mode === Mode.Sasl) {
        const max = mode === Mode.Sasl ? MAX_AUTH_LINE_OCTETS + 2 : this.options.maxCommandLineLength;
        const line = this.input.takeLine(max);
        if (line === null) break;
        this.timer.touch(); // the next command line's deadline counts from here
        if (mode === Mode.Sasl) saslLine(this, line);
        else if (line === TOO_LONG) this.refuse(Replies.lineTooLong());
        else dispatch(this, line);
      } else if (mode === Mode.Body) {
        const buf = this.input.takeAll();
        if (buf === null) break;
        this.body?.feed(buf);
      } else if (mode === Mode.Skip) {
        if (!skipChunk(this)) break;
      } else {
        break;
      }
    }
    if (this.busy) {
      this.pauseIf(PAUSE_INPUT, this.input.length > INPUT_HIGH_WATER);
      return;
    }
    this.pauseIf(PAUSE_INPUT, false);
    this.flush();
    if (this.draining && this.isIdle()) this.close(ServerReplies.shuttingDown(this.options.hostname));
  }

  /** RFC 3030 §2: read and drop a refused BDAT chunk, then answer `reply`. */
  skipChunk(size: number, reply: SmtpError): void {
    if (size > this.oversizeCutoff()) return this.cutOff(reply);
    this.skip = { remaining: size, reply };
    this.setMode(Mode.Skip);
  }

  /** Switch mode; the body modes use the data timeout (RFC 5321 §4.5.3.2.5), see `deadline`. */
  setMode(mode: Mode): void {
    const inBody = (m: Mode) => m === Mode.Body || m === Mode.Skip;
    if (inBody(mode) && !inBody(this.mode)) this.dataDeadline = Date.now() + this.options.dataTimeout;
    if (!inBody(mode)) this.timer.touch();
    this.mode = mode;
  }

  /** Pause or resume reading for one reason; the socket reads only when no reason is left. */
  pauseIf(reason: number, on: boolean): void {
    const before = this.paused;
    this.paused = on ? before | reason : before & ~reason;
    if (before === 0 && this.paused !== 0) this.socket.pause();
    else if (before !== 0 && this.paused === 0 && this.mode !== Mode.Closed) this.socket.resume();
  }

  /** The body stream wants more (or is gone). */
  bodyDrained = (): void => {
    // The wait was ours: the client's data deadline starts again.
    if ((this.paused & PAUSE_BODY) !== 0) this.dataDeadline = Date.now() + this.options.dataTimeout;
    this.pauseIf(PAUSE_BODY, false);
  };
  bodyFull = (): void => this.pauseIf(PAUSE_BODY, true);

  // ---- hooks ---------------------------------------------------------------------------------

  /**
   * Run a handler hook. A synchronous answer is used at once; a promise makes the session busy
   * (input waits) until it settles. A thrown or returned SmtpError is passed on as is; anything
   * else thrown becomes `failure` (451 4.3.0 by default) and goes to `onError`, never to the client.
   */
  hook<T>(
    run: () => T | Promise<T>,
    done: (r: T | SmtpError) => void,
    resume = true,
    failure = Replies.localError,
  ): void {
    // A handler answer the reply formatter rejects (e.g. a queue id with CR LF) is a local error.
    const answer = (v: T | SmtpError): void => {
      try {
        done(v);
      } catch (err) {
        this.send(this.asSmtpError(err));
      }
    };
    let r: T | Promise<T>;
    try {
      r = run();
    } catch (err) {
      return answer(this.asSmtpError(err, failure));
    }
    if (!isThenable(r)) return answer(r);
    this.busy = true;
    // A hook that never settles must not hang the session: after `hookTimeout` the client gets
    // `failure` (451 4.3.0, try again later) and the late answer is ignored (see `deadline`).
    let pending = true;
    const finish = (then: () => void) => {
      if (!pending) return;
      pending = false;
      this.hookExpired = null;
      this.settle(then, resume);
    };
    this.hookStarted = Date.now();
    this.hookExpired = () => {
      const timedOut = new Error(`Handler hook did not answer within ${this.options.hookTimeout} ms`);
      finish(() => answer(this.asSmtpError(timedOut, failure)));
    };
    Promise.resolve(r).then(
      (v) => finish(() => answer(v)),
      (err) => finish(() => answer(this.asSmtpError(err, failure))),
    );
  }

  private settle(done: () => void, resume: boolean): void {
    this.busy = false;
    if (this.mode === Mode.Closed) return;
    this.timer.touch(); // the client waited for us: its clock starts now
    done();
    if (resume && (this.mode as Mode) !== Mode.Closed) this.pump();
    if (this.closeWhenAnswered && !this.busy && (this.mode as Mode) !== Mode.Closed) this.forceClose();
  }

  asSmtpError(err: unknown, failure: () => SmtpError = Replies.localError): SmtpError {
    if (err instanceof SmtpError) return err;
    this.options.onError(err, this.info);
    return failure();
  }

  // ---- output --------------------------------------------------------------------------------

  send(reply: SmtpReply | SmtpError | Buffer): void {
    if (Buffer.isBuffer(reply)) {
      this.out.push(reply);
      return;
    }
    const r = reply instanceof SmtpError ? reply.reply : reply;
    // Without ENHANCEDSTATUSCODES the replies carry none (RFC 2034 §3).
    const wire =
      this.options.enhancedStatusCodes || r.enhanced === undefined ? r : { code: r.code, lines: r.lines };
    this.out.push(Buffer.from(formatReply(wire), 'utf8'));
  }

  /**
   * An error reply to a bad command: counts toward `maxBadCommands`; past it the client gets
   * 421 4.7.0 instead and the connection closes.
   */
  refuse(error: SmtpError): void {
    if (BAD_COMMAND_CODES.has(error.code) && ++this.badCommands > this.options.maxBadCommands) {
      return this.close(ServerReplies.tooManyErrors(this.options.hostname));
    }
    this.send(error);
  }

  flush(): void {
    const out = this.out;
    if (out.length === 0 || this.socket.destroyed || this.socket.writableEnded) {
      out.length = 0;
      return;
    }
    const data = out.length === 1 ? out[0] : Buffer.concat(out);
    out.length = 0;
    this.socket.write(data);
    if (this.socket.writableLength > WRITE_HIGH_WATER && (this.paused & PAUSE_WRITE) === 0) {
      this.pauseIf(PAUSE_WRITE, true);
      this.socket.once('drain', () => this.pauseIf(PAUSE_WRITE, false));
    }
  }

  // ---- STARTTLS (RFC 3207) -------------------------------------------------------------------

  /** After `220 Ready to start TLS`: discard pipelined input, handshake, restart the session. */
  startTls(context: tls.SecureContext): void {
    this.flush(); // the 220 goes out in clear text, before the handshake
    // RFC 3207 §4.2 (CVE-2011-0411): nothing the client sent before the handshake may be used.
    this.input.clear();
    this.mode = Mode.Tls;
    this.paused = 0;
    const raw = this.socket;
    raw.removeListener('data', this.onData);
    raw.removeListener('error', this.onSocketError);
    this.socket = upgradeToTls(raw, context, {
      onError: this.onSocketError,
      onClose: this.onSocketClose,
      timeoutMs: this.options.handshakeTimeout,
      setTimer: (ms, fire) => this.timer.set(ms, fire),
      onSecure: (secure) => {
        this.info.tls = tlsInfoOf(secure, 'starttls');
        this.session.tlsStarted();
        secure.on('data', this.onData);
        this.mode = Mode.Command;
        this.timer.watch();
      },
    });
  }
}
