/**
 * A tiny scripted TCP peer for the misbehaviours no real server offers on demand:
 * never speaking, or dropping the connection in the middle of the message body.
 */
import net from 'node:net';

export interface ScriptedServer {
  readonly port: number;
  /** Bytes received per connection. */
  readonly received: string[];
  stop(): Promise<void>;
}

export type Script = (socket: net.Socket, received: { data: string }) => void;

export async function startScripted(script: Script, host = '127.0.0.1'): Promise<ScriptedServer> {
  const sockets = new Set<net.Socket>();
  const received: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const rec = { data: '' };
    const index = received.push('') - 1;
    socket.on('data', (d) => {
      rec.data += d.toString('latin1');
      received[index] = rec.data;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    script(socket, rec);
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface CommandHandlers {
  /** One command line (without CRLF); return 'data' when the reply sent was 354. */
  line(line: string): 'data' | void;
  /** The content of a message, up to (not including) its end-of-data dot line. */
  data(content: string): void;
}

/**
 * Reads what the client sends as an SMTP/LMTP server does: command lines, and after a 354 the
 * message up to the dot line (RFC 5321 §4.1.1.4), however the bytes arrive.
 */
export function readCommands(socket: net.Socket, rec: { data: string }, handlers: CommandHandlers): void {
  let handled = 0;
  let inData = false;
  socket.on('data', () => {
    for (;;) {
      if (inData) {
        // The end of data: a dot line at the start of the content, or after a CRLF.
        const end = rec.data.startsWith('.\r\n', handled)
          ? handled - 2
          : rec.data.indexOf('\r\n.\r\n', handled);
        if (end === -1) return;
        const content = rec.data.slice(handled, Math.max(handled, end + 2));
        handled = end + 5;
        inData = false;
        handlers.data(content);
        continue;
      }
      const eol = rec.data.indexOf('\r\n', handled);
      if (eol === -1) return;
      const line = rec.data.slice(handled, eol);
      handled = eol + 2;
      if (handlers.line(line) === 'data') inData = true;
    }
  });
}

/** Accepts and never says a word. */
export const silent: Script = () => undefined;

/**
 * A plausible ESMTP server that answers the envelope and DATA, then drops the
 * connection once `dropAfter` bytes of message content have arrived.
 */
export function dropsMidData(dropAfter: number, lastEhloLine = '250 8BITMIME'): Script {
  return (socket, rec) => {
    socket.write('220 scripted ESMTP\r\n');
    let inData = false;
    let dataStart = 0;
    let handled = 0;
    socket.on('data', () => {
      if (inData) {
        if (rec.data.length - dataStart >= dropAfter) socket.destroy();
        return;
      }
      const lines = rec.data.slice(handled).split('\r\n');
      lines.pop();
      for (const line of lines) {
        handled += line.length + 2;
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write(`250-scripted\r\n${lastEhloLine}\r\n`);
        else if (verb === 'DATA') {
          socket.write('354 go ahead\r\n');
          inData = true;
          dataStart = handled;
          break;
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  };
}

/** Offers STARTTLS and answers it with 220 plus a plaintext reply smuggled into the same packet. */
export const injectsAfterStartTls: Script = (socket, rec) => {
  socket.write('220 scripted ESMTP\r\n');
  let handled = 0;
  socket.on('data', () => {
    const lines = rec.data.slice(handled).split('\r\n');
    lines.pop();
    for (const line of lines) {
      handled += line.length + 2;
      const verb = line.slice(0, 8).toUpperCase();
      if (verb.startsWith('EHLO')) socket.write('250-scripted\r\n250 STARTTLS\r\n');
      else if (verb === 'STARTTLS') socket.write('220 2.0.0 Ready to start TLS\r\n250 2.0.0 injected\r\n');
      else if (verb.startsWith('QUIT')) socket.end('221 bye\r\n');
    }
  });
};
