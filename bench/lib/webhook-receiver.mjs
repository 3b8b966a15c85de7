// bench/e2e --webhook (issue 22): a loopback webhook receiver (Node's http server, answering 204
// to every POST) and the endpoint row that points our MTA at it, for every event type.
import { createCipheriv, randomBytes } from 'node:crypto';
import http from 'node:http';
import { withDatabase } from './database.mjs';

/** The key of the runs with webhooks (WEBHOOK_SECRET_KEY), made per bench run. */
export const WEBHOOK_KEY = randomBytes(32);

/** Counts the POSTs it is sent, and their events (one per POST, or a batch's `events`). */
export async function startWebhookReceiver() {
  let count = 0;
  let events = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      count++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      events += Array.isArray(body.events) ? body.events.length : 1;
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/events`,
    count: () => count,
    events: () => events,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

/** The endpoint row, as the API would write it: every event type, the secret sealed as libs/webhooks/src/secret-box.ts does. */
export async function addWebhookEndpoint(db, url, batch = false) {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', WEBHOOK_KEY, iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  await withDatabase(db, (c) =>
    c.query(
      `INSERT INTO webhook_endpoints (url, event_types, secret_enc, batch)
       SELECT $1, array_agg(t::text), $2, $3 FROM unnest(enum_range(NULL::event_type)) t`,
      [url, Buffer.concat([iv, cipher.getAuthTag(), sealed]), batch],
    ),
  );
}
