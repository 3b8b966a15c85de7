import http from 'node:http';
import type { Supervisor } from './supervisor';

export interface FrontOptions {
  readonly host: string;
  readonly port: number;
  readonly supervisor: Supervisor;
  /** The child that serves every other path (the admin API), on its private port. */
  readonly upstream: string;
}

/**
 * The supervisor's HTTP port: `/healthz` (the supervisor is alive), `/readyz` (every child is
 * ready: 200, else 503 naming each child that is not), and everything else passed to the
 * upstream child as it is, so the API's URLs do not change.
 */
export async function serveFront(options: FrontOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/readyz') {
      void options.supervisor.readiness().then((r) =>
        json(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'unavailable', checks: r.checks }),
      );
      return;
    }
    forward(req, res, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Streams the request to the upstream child and its answer back; 502/503 when it cannot. */
function forward(req: http.IncomingMessage, res: http.ServerResponse, options: FrontOptions): void {
  const port = options.supervisor.child(options.upstream)?.httpPort;
  if (port === undefined) {
    // RFC 9110 §10.2.3: when to ask again.
    res.setHeader('retry-after', '1');
    return unavailable(res, 503, `${options.upstream} is starting (or restarting); try again shortly`);
  }
  const upstream = http.request(
    { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (res.headersSent) res.destroy(error);
    else unavailable(res, 502, `${options.upstream} did not answer: ${error.message}`);
  });
  req.pipe(upstream);
}

/** The admin API's error shape. */
function unavailable(res: http.ServerResponse, status: number, message: string): void {
  json(res, status, { error: { status, code: status === 503 ? 'unavailable' : 'bad_gateway', message } });
}
