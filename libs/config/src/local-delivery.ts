/** Where mail for local domains goes: a Maildir tree, or an LMTP server (RFC 2033). */
export type LocalDeliveryTarget =
  { kind: 'maildir'; path: string } | { kind: 'lmtp'; host: string; port: number };

export function parseLocalDelivery(value: string): LocalDeliveryTarget | string {
  if (value.startsWith('maildir:')) {
    const path = value.slice('maildir:'.length);
    return path ? { kind: 'maildir', path } : 'expected maildir:/path, the path is empty';
  }
  if (value.startsWith('lmtp://')) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return `expected lmtp://host:port, got "${value}"`;
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host || !url.port) return `expected lmtp://host:port with an explicit port, got "${value}"`;
    return { kind: 'lmtp', host, port: Number(url.port) };
  }
  return `expected maildir:/path or lmtp://host:port, got "${value}"`;
}
