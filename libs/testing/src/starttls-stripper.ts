/**
 * An active attacker for tests: a TCP relay in front of an SMTP server that removes STARTTLS
 * from the server's EHLO reply (the "STARTTLS stripping" downgrade MTA-STS and DANE exist to
 * stop), and records what the client sent, so that a test can show no mail passed in clear.
 */
import net from 'node:net';

export interface StarttlsStripper {
  readonly host: string;
  readonly port: number;
  /** Everything clients sent, as text. */
  clientData(): string;
  connections(): number;
  close(): Promise<void>;
}

export async function startStarttlsStripper(
  listen: { host: string; port: number },
  target: { host: string; port: number },
): Promise<StarttlsStripper> {
  const sockets = new Set<net.Socket>();
  let sent = '';
  let count = 0;
  const server = net.createServer((client) => {
    count++;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (d: Buffer) => {
      sent += d.toString('latin1');
      upstream.write(d);
    });
    let pending = '';
    upstream.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      client.write(
        strip(lines)
          .map((l) => `${l}\r\n`)
          .join(''),
      );
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    host: listen.host,
    port: listen.port,
    clientData: () => sent,
    connections: () => count,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Drops `250-STARTTLS` / `250 STARTTLS` lines; a dropped last line makes the one before it last. */
function strip(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (/^250[ -]STARTTLS$/i.test(line)) {
      if (line[3] === ' ' && out.length > 0 && /^250-/.test(out[out.length - 1]))
        out[out.length - 1] = `250 ${out[out.length - 1].slice(4)}`;
      continue;
    }
    out.push(line);
  }
  return out;
}
