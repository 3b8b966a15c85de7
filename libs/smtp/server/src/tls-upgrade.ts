/**
 * The socket side of STARTTLS (RFC 3207 §4): wrap the plain socket in a server TLS socket once
 * the 220 is written. Clear text the stream already buffered is dropped first (RFC 3207 §4.2,
 * the STARTTLS command injection class, CVE-2011-0411): only bytes that arrive inside TLS count.
 */
import type net from 'node:net';
import tls from 'node:tls';

export interface UpgradeHooks {
  onError(err: Error): void;
  onClose(): void;
  onSecure(socket: tls.TLSSocket): void;
  timeoutMs: number;
  setTimer(ms: number, fire: () => void): void;
}

export function upgradeToTls(
  raw: net.Socket,
  context: tls.SecureContext,
  hooks: UpgradeHooks,
): tls.TLSSocket {
  raw.pause();
  while (raw.read() !== null) {
    /* drop clear text already buffered by the stream */
  }
  const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
  secure.on('error', hooks.onError);
  raw.on('error', () => secure.destroy());
  secure.once('close', hooks.onClose);
  hooks.setTimer(hooks.timeoutMs, () => secure.destroy());
  secure.once('secure', () => hooks.onSecure(secure));
  return secure;
}
