/**
 * A webhook receiver for tests: Node's http server on loopback that records every request and
 * answers as told per path (a status, or never), and the signature check of the Standard
 * Webhooks scheme written independently of ours, in Python (hmac, hashlib, base64).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What a path answers: a status, a list of statuses used in turn (the last one repeats), or never. */
export type Answer = number | number[] | 'never';

export interface WebhookReceiver {
  url(path: string): string;
  /** Every request so far, to `path` if given. */
  received(path?: string): ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  answers: Record<string, Answer>,
  host = '127.0.0.1',
): Promise<WebhookReceiver> {
  const seen: ReceivedWebhook[] = [];
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers[path] ?? 404;
      if (answer === 'never') return; // holds the request open until the client gives up
      const n = counts.get(path) ?? 0;
      counts.set(path, n + 1);
      res.statusCode = Array.isArray(answer) ? (answer[Math.min(n, answer.length - 1)] ?? 200) : answer;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://${host}:${port}${path}`,
    received: (path) => seen.filter((r) => path === undefined || r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const VERIFY_PY = `
import base64, hashlib, hmac, json, sys
d = json.load(sys.stdin)
secret = d['secret']
assert secret.startswith('whsec_')
key = base64.b64decode(secret[len('whsec_'):])
signed = ('%s.%s.%s' % (d['id'], d['timestamp'], d['body'])).encode('utf-8')
expected = 'v1,' + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode('ascii')
ok = any(hmac.compare_digest(expected, s) for s in d['signature'].split(' '))
print('valid' if ok else 'invalid')
`;

/** Python's verdict on a request's Standard Webhooks signature: 'valid' or 'invalid'. */
export function pythonWebhookVerify(
  secret: string,
  request: { headers: http.IncomingHttpHeaders; body: string },
) {
  const input = JSON.stringify({
    secret,
    id: request.headers['webhook-id'],
    timestamp: request.headers['webhook-timestamp'],
    signature: request.headers['webhook-signature'],
    body: request.body,
  });
  return new Promise<string>((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      ['-c', VERIFY_PY],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(stdout.trim()),
    );
    child.stdin?.end(input);
  });
}
