// One server under test, in its own process so CPU and memory are its own.
// Usage (by run.mjs): node server.mjs <ours|smtp-server> <port> <greetingDelayMs> <bundle>
import { pathToFileURL } from 'node:url';
import { finished } from 'node:stream/promises';

const [impl, portText, delayText, bundle] = process.argv.slice(2);
const port = Number(portText);
const delay = Number(delayText);
let messages = 0;

async function discard(stream) {
  stream.resume();
  await finished(stream);
  messages++;
}

if (impl === 'ours') {
  const { SmtpServer } = await import(pathToFileURL(bundle).href);
  const server = new SmtpServer({
    hostname: 'bench.test',
    greetingDelay: delay,
    maxConnections: 50_000,
    maxConnectionsPerIp: 0,
    maxMessageSize: 50 * 1024 * 1024,
    handler: {
      onData: async (_session, _envelope, body) => {
        await discard(body);
        return 'bench';
      },
    },
  });
  await server.listen({ host: '127.0.0.1', port, backlog: 4096 });
} else {
  const { SMTPServer } = await import('smtp-server');
  if (delay === 0) {
    // smtp-server waits a fixed 100 ms before its greeting (SMTPConnection#init, no option):
    // for the "no greeting delay" rows the same init runs without the timer.
    const { SMTPConnection } = await import('smtp-server/lib/smtp-connection.js');
    SMTPConnection.prototype.init = function init() {
      this._setListeners(() => {
        if (
          this._server.options.maxClients &&
          this._server.connections.size > this._server.options.maxClients
        ) {
          return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
        }
        this.connectionReady();
      });
    };
  }
  const server = new SMTPServer({
    name: 'bench.test',
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    size: 50 * 1024 * 1024,
    onData(stream, _session, callback) {
      discard(stream).then(() => callback(null, 'bench'), callback);
    },
  });
  server.on('error', () => undefined);
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

process.on('message', (m) => {
  if (m === 'stats') {
    if (global.gc) global.gc();
    process.send({
      cpu: process.cpuUsage(),
      rss: process.memoryUsage().rss,
      maxRss: process.resourceUsage().maxRSS * 1024,
      messages,
    });
  }
});
process.send('ready');
