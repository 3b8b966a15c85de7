/**
 * `SmtpServer`: listeners (plain with STARTTLS, implicit TLS, optionally behind a PROXY protocol
 * load balancer), connection limits, and graceful shutdown. One server may run several listeners
 * (e.g. 25, 587 and 465) with the same handler.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Connection, type ConnectionHost } from './connection';
import {
  resolveOptions,
  type ListenerOptions,
  type ResolvedOptions,
  type SmtpServerOptions,
} from './options';
import { parseProxyHeader } from './proxy-protocol';
import { ServerReplies } from './server-replies';
import { clientNetwork } from './client-network';
import { LiveSessionInfo, normaliseAddress, tlsInfoOf } from './session-info';

export class SmtpServer implements ConnectionHost {
  readonly options: ResolvedOptions;
  readonly ehloCache = new Map<string, Buffer>();
  private readonly listeners: net.Server[] = [];
  /** Every socket accepted and not yet closed (including those still in PROXY/TLS setup). */
  private readonly sockets = new Set<net.Socket>();
  private readonly connections = new Set<Connection>();
  /** Sockets still in PROXY header or implicit TLS handshake. */
  private readonly settingUp = new Set<net.Socket>();
  private readonly perIp = new Map<string, number>();
  private closing: Promise<void> | null = null;
  /** Draining (see `drain`): listening, but every new session gets 421 4.3.2. */
  private draining = false;
  /** Ends the drain window early (`close` called during a drain). */
  private endDrain: (() => void) | null = null;
  private drained: Promise<void> | null = null;

  constructor(options: SmtpServerOptions = {}) {
    this.options = resolveOptions(options);
  }

  /** Open connections (sessions past their setup). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Start a listener; resolves with its address (port 0 picks a free one). */
  listen(listener: ListenerOptions): Promise<net.AddressInfo> {
    if (this.closing) return Promise.reject(new Error('SmtpServer is closing'));
    if (listener.implicitTls && this.options.secureContext === null) {
      return Promise.reject(new Error('SmtpServer: implicitTls needs the tls option'));
    }
    let name = listener.name ?? '';
    const server = net.createServer({ pauseOnConnect: false, noDelay: true }, (socket) =>
      this.accept(socket, listener, name),
    );
    server.maxConnections = this.options.maxConnections * 2; // hard stop far above the polite 421
    this.listeners.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (err) => {
        this.listeners.splice(this.listeners.indexOf(server), 1);
        reject(err);
      });
      server.listen(
        { port: listener.port, host: listener.host ?? '::', backlog: listener.backlog ?? 511 },
        () => {
          server.removeAllListeners('error');
          const a = server.address() as net.AddressInfo;
          name ||= `${listener.host ?? a.address}:${a.port}`;
          server.on('error', (err) => this.options.onError(err, null));
          resolve(server.address() as net.AddressInfo);
        },
      );
    });
  }

  /** Addresses of the running listeners. */
  addresses(): net.AddressInfo[] {
    return this.listeners
      .map((s) => s.address())
      .filter((a): a is net.AddressInfo => typeof a === 'object' && a !== null);
  }

  private accept(socket: net.Socket, listener: ListenerOptions, name: string): void {
    const o = this.options;
    this.sockets.add(socket);
    this.settingUp.add(socket);
    // One 'close' listener for the server's own bookkeeping: the socket sets, and the per-IP count
    // once `afterProxy` has counted the connection.
    let countedIp: string | null = null;
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.settingUp.delete(socket);
      if (countedIp !== null) this.uncount(countedIp);
    });
    socket.on('error', () => socket.destroy());
    if (this.closing) return void socket.destroy();
    if (this.sockets.size > o.maxConnections)
      return refuseAtConnect(socket, ServerReplies.tooManyConnections(o.hostname).toBuffer());
    const info = new LiveSessionInfo(name, socket);
    if (!listener.proxyProtocol) {
      countedIp = this.afterProxy(socket, listener, info, null);
      return;
    }
    // PROXY protocol: the first bytes are the header; nothing is said before it arrives.
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), o.handshakeTimeout);
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf);
      if (r.status === 'incomplete') return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      if (r.status === 'invalid') return void socket.destroy(); // malformed: close without a word
      if (r.addresses) {
        info.proxiedBy = { address: info.remoteAddress, port: info.remotePort };
        info.remoteAddress = normaliseAddress(r.addresses.sourceAddress);
        info.remotePort = r.addresses.sourcePort;
        info.localAddress = normaliseAddress(r.addresses.destinationAddress);
        info.localPort = r.addresses.destinationPort;
      }
      socket.pause();
      countedIp = this.afterProxy(socket, listener, info, buf.subarray(r.length));
    };
    const onClose = () => clearTimeout(timer);
    socket.on('data', onData);
    socket.once('close', onClose);
  }

  /**
   * Count the connection for its client IP (or refuse it), then start the session, after the
   * implicit TLS handshake if any. Returns the IP counted (the caller uncounts it at close), or
   * null when the connection was refused.
   */
  private afterProxy(
    socket: net.Socket,
    listener: ListenerOptions,
    info: LiveSessionInfo,
    rest: Buffer | null,
  ): string | null {
    const o = this.options;
    if (this.draining && !listener.implicitTls) {
      this.settingUp.delete(socket);
      refuseAtConnect(socket, ServerReplies.shuttingDown(o.hostname).toBuffer());
      return null;
    }
    // An IPv6 client counts by its /64 (client-network.ts).
    const ip = clientNetwork(info.remoteAddress);
    const count = (this.perIp.get(ip) ?? 0) + 1;
    if (o.maxConnectionsPerIp > 0 && count > o.maxConnectionsPerIp) {
      refuseAtConnect(socket, ServerReplies.tooManyFromIp(o.hostname).toBuffer());
      return null;
    }
    this.perIp.set(ip, count);
    if (!listener.implicitTls) {
      this.settingUp.delete(socket);
      const conn = new Connection(socket, info, listener, this);
      this.connections.add(conn);
      conn.start(rest !== null && rest.length > 0 ? rest : null);
      socket.resume();
      return ip;
    }
    // RFC 8314 §3.3: implicit TLS, the handshake comes first. Bytes already read after a PROXY
    // header belong to the handshake: hand them back to the stream the TLS socket reads.
    socket.pause();
    if (rest !== null && rest.length > 0) socket.unshift(rest);
    const context = o.secureContext as tls.SecureContext;
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
    const timer = setTimeout(() => secure.destroy(), o.handshakeTimeout);
    secure.on('error', () => secure.destroy());
    secure.once('close', () => {
      clearTimeout(timer);
      socket.destroy();
    });
    secure.once('secure', () => {
      clearTimeout(timer);
      this.settingUp.delete(socket);
      if (this.draining)
        return refuseAtConnect(secure, ServerReplies.shuttingDown(o.hostname).toBuffer());
      info.tls = tlsInfoOf(secure, 'implicit');
      const conn = new Connection(secure, info, listener, this);
      this.connections.add(conn);
      conn.start(null);
    });
    return ip;
  }

  private uncount(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  released(conn: Connection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0) this.onEmpty?.();
  }

  private onEmpty: (() => void) | null = null;

  /**
   * Drain, then close (SIGTERM under Kubernetes, which keeps sending new connections to a
   * terminating pod until every proxy and load balancer has dropped its endpoint): for `windowMs`
   * the listeners stay open and every new session is told `421 4.3.2 Service shutting down` at
   * once (RFC 5321 §3.8, RFC 3463 §3.5 "system not accepting network messages"), which a client
   * takes as "try again later or elsewhere", instead of finding the port refused. Open sessions
   * outside a transaction get the 421 now; a transaction in progress may finish during the window
   * (a complete message gets its 250 after the commit, then the 421). At the end of the window,
   * `close(0)`: the stragglers get 421 (a body still arriving is cut: it got no 250, the client
   * sends it again), the listeners close. Resolves when every socket is closed.
   */
  drain(windowMs: number): Promise<void> {
    if (this.closing) return this.closing;
    this.drained ??= (async () => {
      this.draining = true;
      for (const c of this.connections) c.shutdown();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, windowMs);
        this.endDrain = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.endDrain = null;
      await this.close(0);
    })();
    return this.drained;
  }

  /**
   * Graceful shutdown: stop accepting; sessions outside a transaction get 421 4.3.2 now, the
   * others when their transaction is over; after `closeTimeout` (ms) everyone still here is told
   * 421 4.3.2 (or cut if in the middle of a body). Resolves when every socket is closed.
   */
  close(timeout = this.options.closeTimeout): Promise<void> {
    if (this.closing) return this.closing;
    this.endDrain?.();
    this.closing = (async () => {
      const stopped = Promise.all(this.listeners.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const s of this.settingUp) s.destroy();
      for (const c of this.connections) c.shutdown();
      if (this.connections.size > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, timeout);
          this.onEmpty = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.onEmpty = null;
        for (const c of this.connections) c.forceClose();
      }
      // Lingering sockets (after QUIT/421 the client may not close at once) and commits still
      // answering (forceClose lets them reply): give them a moment.
      const deadline = Date.now() + CLOSE_LINGER_MS;
      while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const s of this.sockets) s.destroy();
      await stopped;
    })();
    return this.closing;
  }
}

/** After the close deadline: how long sockets may still take to close before they are destroyed. */
const CLOSE_LINGER_MS = 3_000;

/** Say why we refuse (421), then close; the client gets a moment to read it. */
function refuseAtConnect(socket: net.Socket, reply: Buffer): void {
  socket.end(reply);
  const t = setTimeout(() => socket.destroy(), 2_000);
  socket.once('close', () => clearTimeout(t));
}
