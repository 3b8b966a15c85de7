/**
 * A small receiving SMTP server for REQUIRETLS tests (RFC 8689): STARTTLS with the certificate
 * it is given, REQUIRETLS advertised once TLS is up, every transaction recorded with its MAIL
 * FROM parameters and whether it arrived over TLS. Postfix, the usual peer here, does not
 * implement REQUIRETLS, so it can only show the refusal; this one shows the flag going on.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface ReceivedTransaction {
  readonly mailFrom: string;
  readonly recipients: string[];
  readonly data: string;
  readonly tls: boolean;
}

export interface RequireTlsPeer {
  readonly received: ReceivedTransaction[];
  close(): Promise<void>;
}

export async function startRequireTlsPeer(
  listen: { host: string; port: number },
  cert: { chain: string; key: string },
): Promise<RequireTlsPeer> {
  const received: ReceivedTransaction[] = [];
  const sockets = new Set<net.Socket>();
  const context = tls.createSecureContext({ cert: cert.chain, key: cert.key });
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => undefined);
    serve(raw, context, received);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    received,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(raw: net.Socket, context: tls.SecureContext, received: ReceivedTransaction[]): void {
  let socket: net.Socket = raw;
  let secure = false;
  let buffer = '';
  let inData = false;
  let tx: { mailFrom: string; recipients: string[]; data: string } | null = null;
  const say = (line: string): void => void socket.write(`${line}\r\n`);
  const onLine = (line: string): void => {
    if (inData) {
      if (line === '.') {
        inData = false;
        if (tx) received.push({ ...tx, tls: secure });
        tx = null;
        return say('250 2.0.0 queued');
      }
      if (tx) tx.data += `${line.startsWith('..') ? line.slice(1) : line}\r\n`;
      return;
    }
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === 'EHLO') {
      const ext = secure ? ['PIPELINING', 'REQUIRETLS'] : ['PIPELINING', 'STARTTLS'];
      return say(
        ['250-peer.test', ...ext.slice(0, -1).map((e) => `250-${e}`), `250 ${ext.at(-1)}`].join('\r\n'),
      );
    }
    if (verb === 'STAR' && !secure) {
      say('220 2.0.0 go ahead');
      socket.removeAllListeners('data');
      const upgraded = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
      upgraded.on('error', () => undefined);
      upgraded.on('secure', () => undefined);
      socket = upgraded;
      secure = true;
      buffer = '';
      socket.on('data', onData);
      return;
    }
    if (verb === 'MAIL') {
      tx = { mailFrom: line.slice(10), recipients: [], data: '' };
      return say('250 2.1.0 ok');
    }
    if (verb === 'RCPT') {
      tx?.recipients.push(line.slice(8));
      return say('250 2.1.5 ok');
    }
    if (verb === 'DATA') {
      inData = true;
      return say('354 go ahead');
    }
    if (verb === 'RSET') {
      tx = null;
      return say('250 2.0.0 ok');
    }
    if (verb === 'QUIT') {
      say('221 2.0.0 bye');
      return void socket.end();
    }
    say('502 5.5.2 not implemented');
  };
  const onData = (d: Buffer): void => {
    buffer += d.toString('latin1');
    let i: number;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      onLine(line);
    }
  };
  socket.on('data', onData);
  say('220 peer.test ESMTP');
}
