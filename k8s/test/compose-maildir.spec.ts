/**
 * Local delivery under docker-compose: the services that deliver keep the Maildir on a named
 * volume at LOCAL_DELIVERY's path, and the image makes that path its user's, so Docker's first
 * mount of the empty volume copies path and owner from the image and the non-root process can
 * write there (a bind mount or an anonymous volume would not survive or would be root's).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { variables } from '@mta/config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './render';
import { composeConfig, HAVE_KUBECTL } from './trees';

type Mount = string | { type?: string; source?: string; target?: string };
interface Compose {
  services: Record<
    string,
    { image: string; command?: string[]; environment?: Record<string, string>; volumes?: Mount[] }
  >;
  volumes?: Record<string, unknown>;
}

/** `source:target[:mode]` (compose v1 output) or the long syntax (v2). */
function mountOf(m: Mount): { source: string; target: string } {
  if (typeof m !== 'string') return { source: m.source ?? '', target: m.target ?? '' };
  const [source = '', target = ''] = m.split(':');
  return { source, target };
}

describe.skipIf(!HAVE_KUBECTL)('docker-compose.yml: local delivery to Maildir', () => {
  it("mounts a named volume at LOCAL_DELIVERY's Maildir in every service that delivers, owned by the image's user", () => {
    const compose = parse(composeConfig()) as Compose;
    const delivering = Object.entries(compose.services).filter(([, s]) =>
      ['delivery', 'all-in-one'].includes(s.command?.[0] ?? ''),
    );
    expect(delivering.map(([name]) => name)).not.toEqual([]);
    const named = Object.keys(compose.volumes ?? {});
    const paths = new Set<string>();
    for (const [name, service] of delivering) {
      const local = service.environment?.['LOCAL_DELIVERY'] ?? variables.LOCAL_DELIVERY.defaults.production;
      const maildir = /^maildir:(.+)$/.exec(local)?.[1];
      if (!maildir) continue; // LMTP: the mailbox server keeps the mail
      paths.add(maildir);
      const mount = (service.volumes ?? []).map(mountOf).find((m) => m.target === maildir);
      expect(mount, `${name}: a volume at ${maildir}`).toBeDefined();
      expect(named, `${name}: ${mount?.source} is a named volume`).toContain(mount?.source);
    }
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const user = /^USER (\d+:\d+)$/m.exec(runtime)?.[1];
    for (const maildir of paths) {
      expect(runtime).toMatch(new RegExp(`mkdir -p [^\\n]*${maildir}`));
      expect(runtime).toContain(`chown ${user} ${maildir}`);
    }
  });
});
