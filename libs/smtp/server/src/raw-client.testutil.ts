/**
 * A tiny raw SMTP client for tests: write exact bytes, read whole replies. Deliberately dumb, so
 * the tests can send what a real client never would (pipelined STARTTLS, bare LFs, early talk).
 */
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

export class RawClient {
  received = '';
  private pos = 0;
  private waiters: (() => void)[] = [];
  closed: Promise<void>;
  isClosed = false;

  private constructor(public socket: net.Socket) {
    this.closed = this.watch(socket);
  }

  static connect(
    port: number,
    options: { host?: string; tls?: boolean; localAddress?: string } = {},
  ): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const host = options.host ?? '127.0.0.1';
      const socket = options.tls
        ? tls.connect({ port, host, rejectUnauthorized: false, servername: 'localhost' })
        : net.connect({ port, host, localAddress: options.localAddress });
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private watch(socket: net.Socket): Promise<void> {
    socket.on('data', (d: Buffer) => {
      this.received += d.toString('latin1');
      this.wake();
    });
    socket.on('error', () => undefined);
    return new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next complete reply (multi-line aware); rejects on close or timeout. */
  async reply(timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.parseReply();
      if (r) return r;
      if (this.isClosed)
        throw new Error(`connection closed; unread: ${JSON.stringify(this.received.slice(this.pos))}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timeout waiting for a reply; unread: ${JSON.stringify(this.received.slice(this.pos))}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private parseReply(): Reply | null {
    const lines: string[] = [];
    let p = this.pos;
    for (;;) {
      const nl = this.received.indexOf('\r\n', p);
      if (nl < 0) return null;
      const line = this.received.slice(p, nl);
      p = nl + 2;
      lines.push(line);
      if (line[3] !== '-') {
        this.pos = p;
        return { code: Number(line.slice(0, 3)), lines, text: lines.join('\n') };
      }
    }
  }

  /** Send a command and return its reply. */
  async cmd(line: string): Promise<Reply> {
    this.write(line + '\r\n');
    return this.reply();
  }

  /** Replies not read yet, without waiting. */
  get unread(): string {
    return this.received.slice(this.pos);
  }

  /** Upgrade to TLS after a 220 to STARTTLS. */
  async startTls(): Promise<void> {
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.received = this.received.slice(0, this.pos);
    this.closed = this.watch(secure);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Resolve after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
