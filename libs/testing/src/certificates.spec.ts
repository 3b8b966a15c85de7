import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { selfSignedCertificate } from './certificates';
import { freePort } from './free-port';

describe('selfSignedCertificate', () => {
  it('makes a key pair a TLS server can use, valid for the names given, written to files', async () => {
    const cert = await selfSignedCertificate(['mx.test.example']);
    expect(readFileSync(cert.certFile, 'utf8')).toBe(cert.cert);
    const port = await freePort();
    const server = tls.createServer({ cert: cert.cert, key: cert.key }, (s) => s.end('hello'));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
        const socket = tls.connect(
          { port, host: '127.0.0.1', servername: 'mx.test.example', ca: cert.cert },
          () => {
            resolve(socket.getPeerCertificate());
            socket.destroy();
          },
        );
        socket.on('error', reject);
      });
      expect(peer.subject.CN).toBe('mx.test.example');
      expect(peer.subjectaltname).toContain('DNS:mx.test.example');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
