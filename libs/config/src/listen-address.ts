/** A `host:port` pair a server binds to. IPv6 hosts are written in brackets: `[::1]:25`. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). Returns an error text on failure. */
export function parseListenAddress(value: string): ListenAddress | string {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(value.trim());
  if (!match) return `expected host:port (e.g. 0.0.0.0:25 or [::]:25), got "${value}"`;
  const port = Number(match[3]);
  if (port > 65535) return `port ${port} is out of range 0-65535`;
  const host = match[1] ?? (match[2] || '0.0.0.0');
  return { host, port };
}

export function formatListenAddress({ host, port }: ListenAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
