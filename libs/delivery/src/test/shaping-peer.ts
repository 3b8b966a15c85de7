/**
 * Test-only: nodemailer's smtp-server on one loopback address as a receiving MX that shows what
 * traffic shaping is about: its sessions (connections open now, the most open at once, messages
 * per session) and the time each message arrived. `stall()` holds every MAIL FROM unanswered
 * (a receiver that is slow to the point of stalling) until `resume()`.
 */
import { SMTPServer } from 'smtp-server';

export interface ShapingPeer {
  /** Sessions open now. */
  readonly open: number;
  /** The most sessions open at once so far. */
  readonly maxOpen: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** MAIL FROM commands held unanswered now (stalled). */
  readonly held: number;
  /** Messages received, in order: the session that carried each, and when it arrived. */
  readonly received: { readonly session: string; readonly to: string[]; readonly at: number }[];
  /** Messages per session, in the order the sessions opened. */
  messagesPerSession(): number[];
  stall(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startShapingPeer(host: string, port: number): Promise<ShapingPeer> {
  let open = 0;
  let maxOpen = 0;
  let connections = 0;
  let stalled = false;
  const held: (() => void)[] = [];
  const sessions: string[] = [];
  const received: { session: string; to: string[]; at: number }[] = [];
  const server = new SMTPServer({
    name: `mx.${host}`,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onConnect(session, cb) {
      connections++;
      maxOpen = Math.max(maxOpen, ++open);
      sessions.push(session.id);
      cb();
    },
    onClose() {
      open--;
    },
    onMailFrom(_address, _session, cb) {
      if (stalled) held.push(() => cb());
      else cb();
    },
    onData(stream, session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received.push({
          session: session.id,
          to: session.envelope.rcptTo.map((r) => r.address),
          at: Date.now(),
        });
        cb(null);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  return {
    get open() {
      return open;
    },
    get maxOpen() {
      return maxOpen;
    },
    get connections() {
      return connections;
    },
    get held() {
      return held.length;
    },
    received,
    messagesPerSession: () =>
      sessions.map((id) => received.filter((r) => r.session === id).length).filter((n) => n > 0),
    stall: () => void (stalled = true),
    resume() {
      stalled = false;
      for (const go of held.splice(0)) go();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        stalled = false;
        for (const go of held.splice(0)) go();
        server.close(() => resolve());
      }),
  };
}
