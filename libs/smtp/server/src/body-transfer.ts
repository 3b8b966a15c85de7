/**
 * One message body on its way from the socket to `onData`: DATA (RFC 5321 §4.1.1.4, dot-unstuffed
 * by `DataDecoder`) or BDAT chunks (RFC 3030, framed by `BdatDecoder`).
 *
 * The handler is called when the body starts and reads it as a stream (with backpressure). If the
 * decoder finds the body invalid (too big, bare CR/LF, NUL, line too long) the stream is destroyed with
 * that SmtpError at once; the rest of the body is still read so the session stays in sync, and
 * the client gets the decoder's reply at the end, whatever the handler answered.
 */
import { BdatDecoder, DataDecoder, Replies, type SmtpError, type SmtpReply } from '@mta/smtp-protocol';
import type { Connection } from './connection';
import { Mode } from './mode';
import type { Envelope } from './handler';
import { MessageStream } from './message-stream';

type Outcome = string | void | undefined | SmtpReply | SmtpError;

/**
 * What the body stream is destroyed with when the client, not the message, ends the transfer:
 * it closed the connection or reset the transaction mid-body. The handler has nothing to answer
 * then, so it can tell this apart from a failure of its own (a log line at info, not error).
 */
export class TransferAbortedError extends Error {
  override readonly name = 'TransferAbortedError';
}

export class BodyTransfer {
  readonly stream: MessageStream;
  private readonly result: Promise<Outcome>;
  private readonly data: DataDecoder | null;
  private readonly bdat: BdatDecoder | null;
  private failed: SmtpError | null = null;
  private finished = false;
  private abortedWith: Error | null = null;
  private chunkSize = 0;
  /** Body octets read from the socket (DATA: before unstuffing; BDAT: chunk data). */
  private octets = 0;

  constructor(
    private readonly conn: Connection,
    kind: 'data' | 'bdat',
  ) {
    const o = conn.options;
    const maxSize = o.maxMessageSize > 0 ? o.maxMessageSize : undefined;
    // One content rule for DATA and BDAT (smtp-protocol content-rules.ts): bare CR and NUL
    // refused, bare LF refused or stored as CRLF.
    const bareNewline = o.bareNewline;
    this.data =
      kind === 'data'
        ? new DataDecoder({
            maxSize,
            maxLineLength: o.maxDataLineLength > 0 ? o.maxDataLineLength : undefined,
            bareNewline,
          })
        : null;
    this.bdat = kind === 'bdat' ? new BdatDecoder({ maxSize, bareNewline }) : null;
    this.stream = new MessageStream(conn.bodyDrained);
    conn.startBody();
    const tx = conn.session.transaction;
    if (tx === null) throw new Error('BodyTransfer without a transaction');
    const user = conn.session.user;
    const envelope: Envelope = {
      mailFrom: tx.from,
      // RFC 4954 §5: AUTH= from a client we have not authenticated is treated as AUTH=<>.
      mailParams: tx.params.auth !== undefined && user === null ? { ...tx.params, auth: null } : tx.params,
      recipients: tx.recipients,
      transfer: kind,
      protocol: conn.info.protocol,
    };
    const onData = conn.handler.onData;
    if (onData) {
      this.result = Promise.resolve()
        .then(() => onData.call(conn.handler, conn.info, envelope, this.stream))
        // The stream error we caused ourselves (abort) is no handler failure worth reporting.
        .catch((err: unknown) => (err === this.abortedWith ? Replies.localError() : conn.asSmtpError(err)));
      // A handler that answers before the body is complete (typically a refusal) reads no more:
      // drop the rest of the body instead of waiting for it to read.
      void this.result.then(() => {
        if (!this.finished) this.abort(new Error('The handler answered before the end of the body'));
      });
    } else {
      this.stream.resume(); // nobody wants it: read and discard
      this.result = new Promise((resolve) => this.stream.once('end', () => resolve(undefined)));
      this.stream.once('error', () => undefined);
    }
  }

  /** BDAT: the next chunk was announced. */
  beginChunk(size: number, last: boolean): void {
    if (!this.bdat) return;
    this.chunkSize = size;
    const end = this.bdat.begin(size, last);
    if (end) this.chunkEnd(end.error, end.last);
    else this.conn.setMode(Mode.Body);
  }

  /** Bytes from the socket while the body is in progress. */
  feed(buf: Buffer): void {
    this.octets += buf.length;
    if (this.data) {
      const { chunks, end } = this.data.feed(buf);
      this.deliver(chunks, this.data.error);
      if (end) {
        this.conn.input.unshift(end.rest);
        this.conn.setMode(Mode.Command);
        this.finish(end.error);
      }
    } else if (this.bdat) {
      const { chunks, end } = this.bdat.feed(buf);
      this.deliver(chunks, this.bdat.error);
      if (end) {
        this.conn.input.unshift(end.rest);
        this.chunkEnd(end.error, end.last);
      }
    }
  }

  /** The client went away, the transaction was reset, or we timed out. */
  abort(error: Error): void {
    if (!this.stream.destroyed) {
      this.abortedWith = error;
      this.stream.destroy(error);
    }
    this.conn.bodyDrained();
  }

  private deliver(chunks: Buffer[], error: SmtpError | null): void {
    if (error !== null) {
      if (this.failed === null) {
        this.failed = error;
        this.abort(error);
      }
      if (error.code === 552 && this.octets > this.conn.oversizeCutoff()) this.conn.cutOff(error);
      return;
    }
    if (chunks.length > 0 && !this.stream.write(chunks)) this.conn.bodyFull();
  }

  private chunkEnd(error: SmtpError | null, last: boolean): void {
    this.conn.setMode(Mode.Command);
    if (error === null && !last) {
      // RFC 3030 §2: each non-LAST chunk is acknowledged on its own.
      this.conn.send(Replies.chunkOk(this.chunkSize));
      return;
    }
    // RFC 3030 §4: a failed chunk ends the transaction; the LAST chunk completes it.
    this.finish(error);
  }

  /** The body is complete (or failed): end the transaction and give the client its reply. */
  private finish(error: SmtpError | null): void {
    const conn = this.conn;
    this.finished = true;
    conn.body = null;
    conn.session.endTransaction();
    const failure = error ?? this.failed;
    if (failure !== null) {
      this.abort(failure);
      void this.result; // settles on its own; its answer no longer matters
      conn.send(failure);
      return;
    }
    this.stream.finish();
    conn.hook(
      () => this.result,
      (r) => {
        if (typeof r === 'string') conn.send(conn.options.wire.queued(r));
        else if (r === undefined || r === null) conn.send(conn.options.wire.accepted);
        else conn.send(r);
        if (typeof r === 'string' || r === undefined || r === null || r.code < 400) conn.info.messages++;
      },
    );
  }
}
