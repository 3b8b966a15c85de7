import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick). Another process could
 * take it before the child binds it; the child then fails to start and is restarted on a new one.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
