import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Supervisor } from './supervisor';

export interface FrontOptions {
  readonly host: string;
  readonly port: number;
  readonly supervisor: Supervisor;
  /** The child that serves every other path (the admin API), on its private port. */
  readonly upstream: string;
  /** `/metrics` answers only with `Authorization: Bearer <this>` (METRICS_TOKEN); unset: open. */
  readonly metricsToken?: string;
}

/**
 * The supervisor's HTTP port: `/healthz` (the supervisor is alive), `/readyz` (every child is
 * ready: 200, else 503 naming each child that is not), `/metrics` (every child's and the
 * supervisor's, `Supervisor.metrics`), and everything else passed to the upstream child as it
 * is, so the API's URLs do not change.
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
    if (req.method === 'GET' && path === '/metrics') return metrics(req, res, options);
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

/**
 * Every child's metrics, behind METRICS_TOKEN as a service's own `/metrics` is
 * (HealthController in libs/observability, which this library may not import: it depends on
 * no other library): 401 with `WWW-Authenticate` without the right bearer token (RFC 6750 §3).
 */
function metrics(req: http.IncomingMessage, res: http.ServerResponse, options: FrontOptions): void {
  if (options.metricsToken !== undefined && !bearerMatches(req.headers.authorization, options.metricsToken)) {
    res.setHeader('www-authenticate', 'Bearer realm="metrics"');
    return json(res, 401, { error: { status: 401, code: 'unauthorized', message: 'a valid bearer token is required' } });
  }
  options.supervisor.metrics().then(
    ({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
    },
    (error: Error) =>
      json(res, 500, { error: { status: 500, code: 'internal', message: `could not render the metrics: ${error.message}` } }),
  );
}

/** RFC 6750 §2.1; compared in constant time (SHA-256 first, so the lengths match too). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
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
