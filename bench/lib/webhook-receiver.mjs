// bench/e2e --webhook (issue 22): a loopback webhook receiver (Node's http server, answering 204
// to every POST) and the endpoint row that points our MTA at it, for every event type.
import { createCipheriv, randomBytes } from 'node:crypto';
import http from 'node:http';
import { withDatabase } from './database.mjs';

/** The key of the runs with webhooks (WEBHOOK_SECRET_KEY), made per bench run. */
export const WEBHOOK_KEY = randomBytes(32);

/** Counts the POSTs it is sent (and their events, one per POST). */
export async function startWebhookReceiver() {
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/events`,
    count: () => count,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

/** The endpoint row, as the API would write it: every event type, the secret sealed as libs/webhooks/src/secret-box.ts does. */
export async function addWebhookEndpoint(db, url) {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', WEBHOOK_KEY, iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  await withDatabase(db, (c) =>
    c.query(
      `INSERT INTO webhook_endpoints (url, event_types, secret_enc)
       SELECT $1, array_agg(t::text), $2 FROM unnest(enum_range(NULL::event_type)) t`,
      [url, Buffer.concat([iv, cipher.getAuthTag(), sealed])],
    ),
  );
}
