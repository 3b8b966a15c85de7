/**
 * The transport under a client session: one TCP (later TLS) socket, a reply reader,
 * and a single reader-waiter with a timeout. Knows nothing about SMTP verbs.
 *
 * Lifecycle rule: every path that ends the connection goes through `fail()`, which
 * destroys the socket, clears the pending timer and rejects the waiter, so nothing
 * (socket, timer, listener) outlives the connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ReplyProtocolError, ReplyReader, type SmtpReply } from '@mta/smtp-protocol';
import { DeliveryError, type SessionStage } from './errors';
import { tlsFactsOf, type TlsFacts } from './tls-facts';

export type TraceEvent =
  | { readonly direction: 'out'; readonly line: string }
  | { readonly direction: 'in'; readonly reply: SmtpReply }
  | { readonly direction: 'info'; readonly message: string };

export type TraceFn = (event: TraceEvent) => void;

export interface OpenOptions {
  /** Address to connect to (IPv4 or IPv6 literal, or a name). */
  readonly host: string;
  readonly port: number;
  /** Local source address to bind (e.g. a dedicated outbound IP). */
  readonly localAddress?: string;
  /** Restrict name resolution of `host` to one family. */
  readonly family?: 4 | 6;
  readonly timeoutMs: number;
  readonly trace?: TraceFn;
}

interface Waiter {
  resolve(reply: SmtpReply): void;
  reject(err: DeliveryError): void;
  timer: NodeJS.Timeout;
}

/** RFC 3463 X.4.2 "Bad connection"; X.4.1 "No answer from host". */
const LOST = '4.4.2';

export class Connection {
  private socket: net.Socket;
  private readonly reader = new ReplyReader();
  private readonly queued: SmtpReply[] = [];
  private waiter: Waiter | null = null;
  private failure: DeliveryError | null = null;
  /** The server said 421: it is closing the channel (RFC 5321 §3.8). */
  private serverClosing = false;
  private readonly trace: TraceFn | undefined;
  private stage: SessionStage = 'greeting';
  /** Resolves when the TCP socket (under any TLS layer) has closed: the file descriptor is gone. */
  private readonly closed: Promise<void>;

  private constructor(socket: net.Socket, trace: TraceFn | undefined) {
    this.socket = socket;
    this.trace = trace;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.attach(socket);
  }

  /** Open a TCP connection. Rejects with a local, deferred DeliveryError (stage `connect`). */
  static open(opts: OpenOptions): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: opts.host,
        port: opts.port,
        localAddress: opts.localAddress,
        family: opts.family,
        // No Nagle: the end-of-data dot goes out while the body's segment is unacknowledged,
        // and a server that acknowledges late (delayed ACK, 40 ms on Linux) would hold every
        // message that long. Lines meant to go together are written together (`together`).
        noDelay: true,
      });
      const done = (err: DeliveryError | null): void => {
        clearTimeout(timer);
        socket.removeListener('connect', onConnect);
        socket.removeListener('error', onError);
        if (err) {
          socket.destroy();
          reject(err);
        } else {
          resolve(new Connection(socket, opts.trace));
        }
      };
      const onConnect = (): void => done(null);
      const onError = (e: NodeJS.ErrnoException): void =>
        done(
          DeliveryError.local(
            'connect',
            '4.4.1',
            `cannot connect to ${opts.host}:${opts.port}: ${e.code ?? e.message}`,
            e,
          ),
        );
      const timer = setTimeout(
        () =>
          done(DeliveryError.local('connect', '4.4.1', `connection to ${opts.host}:${opts.port} timed out`)),
        opts.timeoutMs,
      );
      socket.once('connect', onConnect);
      socket.once('error', onError);
    });
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  /** True while the socket is open and nothing has gone wrong. */
  isOpen(): boolean {
    return this.failure === null && !this.serverClosing && !this.socket.destroyed;
  }

  /** No reply is waiting to be read and none is half-received: the session is in step. */
  isInStep(): boolean {
    return this.queued.length === 0 && !this.reader.hasPartial();
  }

  /** The error that ended the connection, if it ended. */
  get error(): DeliveryError | null {
    return this.failure;
  }

  /** Which stage we are in, used to label a drop or timeout. */
  setStage(stage: SessionStage): void {
    this.stage = stage;
  }

  /** Write one command line (CRLF is added). `traceAs` replaces the line in traces (AUTH). */
  writeLine(line: string, traceAs?: string): void {
    this.trace?.({ direction: 'out', line: traceAs ?? line });
    this.write(Buffer.from(line + '\r\n', 'utf8'));
  }

  /**
   * Whatever `writes` writes goes out in one segment where it fits (a PIPELINING group, RFC 2920
   * §3.1, or a BDAT command with its chunk).
   */
  together(writes: () => void): void {
    this.socket.cork();
    try {
      writes();
    } finally {
      this.socket.uncork();
    }
  }

  /** Write raw bytes; returns false when the kernel buffer is full (wait with `drain`). */
  write(data: Buffer): boolean {
    if (this.failure) return true; // the next read reports the failure
    return this.socket.write(data);
  }

  /** Wait until buffered writes are flushed, at most `timeoutMs` (RFC 5321 §4.5.3.2.5). */
  drain(stage: SessionStage, timeoutMs: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.socket.removeListener('drain', onDrain);
        this.socket.removeListener('close', onClose);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => {
        cleanup();
        reject(this.failure ?? DeliveryError.local(stage, LOST, 'connection lost while sending'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          this.fail(
            DeliveryError.local(stage, LOST, `timed out after ${timeoutMs} ms sending data (${stage})`),
          ),
        );
      }, timeoutMs);
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
    });
  }

  /** Read the next complete reply, at most `timeoutMs`. A timeout ends the connection. */
  read(stage: SessionStage, timeoutMs: number): Promise<SmtpReply> {
    this.stage = stage;
    const next = this.queued.shift();
    if (next) return Promise.resolve(next);
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('concurrent read on one SMTP connection'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          DeliveryError.local(stage, LOST, `timed out after ${timeoutMs} ms waiting for the ${stage} reply`),
        );
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Write a command and read its reply. */
  async command(line: string, stage: SessionStage, timeoutMs: number, traceAs?: string): Promise<SmtpReply> {
    this.writeLine(line, traceAs);
    return this.read(stage, timeoutMs);
  }

  /**
   * Upgrade to TLS after a 220 to STARTTLS (RFC 3207 §4). Anything the server sent after
   * that 220 and before the handshake would be plaintext injected into the TLS session
   * (CVE-2011-0411 class), so its presence aborts the upgrade.
   */
  async startTls(
    options: tls.ConnectionOptions,
    servername: string | null,
    timeoutMs: number,
  ): Promise<TlsFacts> {
    if (this.failure) throw this.failure;
    if (this.queued.length > 0 || this.reader.hasPartial()) {
      throw this.fail(
        DeliveryError.local(
          'starttls',
          '4.7.0',
          'server sent data after the STARTTLS reply (possible injection)',
        ),
      );
    }
    const plain = this.socket;
    this.detach(plain);
    plain.on('error', noop); // the TLS socket reports errors; keep the raw one quiet
    const secure = tls.connect({ ...options, socket: plain, ...(servername ? { servername } : {}) });
    this.socket = secure;
    return new Promise<TlsFacts>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        secure.removeListener('secureConnect', onSecure);
        secure.removeListener('error', onError);
      };
      const onSecure = (): void => {
        cleanup();
        this.attach(secure);
        const facts = tlsFactsOf(secure, servername);
        this.trace?.({
          direction: 'info',
          message: `TLS ${facts.protocol} ${facts.cipher} authorized=${facts.authorized}`,
        });
        resolve(facts);
      };
      const onError = (e: Error): void => {
        cleanup();
        secure.on('error', noop);
        reject(this.fail(DeliveryError.local('starttls', '4.7.5', `TLS handshake failed: ${e.message}`, e)));
      };
      const timer = setTimeout(() => {
        cleanup();
        secure.on('error', noop);
        reject(
          this.fail(
            DeliveryError.local('starttls', '4.7.5', `TLS handshake timed out after ${timeoutMs} ms`),
          ),
        );
      }, timeoutMs);
      secure.once('secureConnect', onSecure);
      secure.once('error', onError);
    });
  }

  /** End the connection now (no QUIT). Idempotent. Returns the error that ended it. */
  fail(err: DeliveryError): DeliveryError {
    if (!this.failure) this.failure = err;
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.reject(this.failure);
    }
    if (!this.socket.destroyed) this.socket.destroy();
    return this.failure;
  }

  /** End the connection (after QUIT, or without); resolves once the TCP socket is closed. */
  close(reason: DeliveryError): Promise<void> {
    this.fail(reason);
    return this.closed;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detach(socket: net.Socket): void {
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onError);
    socket.removeListener('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    let replies: SmtpReply[];
    try {
      replies = this.reader.push(chunk);
    } catch (e) {
      const text = e instanceof ReplyProtocolError ? e.message : String(e);
      this.fail(DeliveryError.local(this.stage, '4.5.0', `protocol error from server: ${text}`, e));
      return;
    }
    for (const reply of replies) {
      this.trace?.({ direction: 'in', reply });
      if (reply.code === 421) this.serverClosing = true;
      const waiter = this.waiter;
      if (waiter) {
        this.waiter = null;
        clearTimeout(waiter.timer);
        waiter.resolve(reply);
      } else {
        this.queued.push(reply);
      }
    }
  };

  private readonly onError = (e: NodeJS.ErrnoException): void => {
    this.fail(
      DeliveryError.local(
        this.stage,
        LOST,
        `connection error during ${this.stage}: ${e.code ?? e.message}`,
        e,
      ),
    );
  };

  private readonly onClose = (): void => {
    this.fail(DeliveryError.local(this.stage, LOST, `connection closed by the server during ${this.stage}`));
  };
}

function noop(): void {
  /* errors already handled elsewhere */
}
