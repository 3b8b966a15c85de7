/**
 * A DNSSEC-validating resolver on loopback for DANE tests: Debian's `unbound` serving zones the
 * test writes, one of them signed on the spot with `ldns-keygen`/`ldns-signzone` (ldnsutils)
 * and trusted through its key (`trust-anchor-file`), so that answers from it carry the AD bit
 * and answers from the unsigned ones do not. Zones are served to unbound itself (`auth-zone`
 * `for-upstream`), so it resolves and validates them like any zone on the internet, without
 * one. `haveValidatingResolver()` says whether the tools are installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { spawnPeer, waitForPort } from './peer-process';

export const haveValidatingResolver = (): boolean =>
  existsSync('/usr/sbin/unbound') &&
  existsSync('/usr/bin/ldns-signzone') &&
  existsSync('/usr/bin/ldns-keygen');

export interface TestZone {
  /** e.g. `dane.test` */
  readonly name: string;
  /** Zone file lines, names absolute with the final dot (`mx.dane.test. 300 IN A 127.0.0.1`). */
  readonly records: readonly string[];
  /** Sign it and trust its key (default true). */
  readonly signed?: boolean;
}

export interface ValidatingResolver {
  readonly host: string;
  readonly port: number;
  log(): string;
  stop(): Promise<void>;
}

export async function startValidatingResolver(zones: readonly TestZone[]): Promise<ValidatingResolver> {
  const dir = mkdtempSync(path.join(tmpdir(), 'unbound-'));
  const run = (cmd: string, args: string[]): string =>
    execFileSync(cmd, args, { cwd: dir, encoding: 'utf8' }).trim();
  const anchors: string[] = [];
  const authZones = zones.map((zone) => {
    const file = path.join(dir, `${zone.name}.zone`);
    const soa = `${zone.name}. 300 IN SOA ns.${zone.name}. admin.${zone.name}. 1 3600 600 86400 300`;
    writeFileSync(
      file,
      [
        soa,
        `${zone.name}. 300 IN NS ns.${zone.name}.`,
        `ns.${zone.name}. 300 IN A 127.0.0.1`,
        ...zone.records,
        '',
      ].join('\n'),
    );
    if (zone.signed === false) return authZone(zone.name, file);
    const ksk = run('ldns-keygen', ['-a', 'ECDSAP256SHA256', '-k', zone.name]);
    const zsk = run('ldns-keygen', ['-a', 'ECDSAP256SHA256', zone.name]);
    run('ldns-signzone', ['-o', zone.name, file, zsk, ksk]);
    anchors.push(path.join(dir, `${ksk}.key`));
    return authZone(zone.name, `${file}.signed`);
  });
  const port = await freePort();
  const conf = path.join(dir, 'unbound.conf');
  writeFileSync(
    conf,
    [
      'server:',
      `  interface: 127.0.0.1@${port}`,
      '  do-ip6: no',
      '  do-daemonize: no',
      '  use-syslog: no',
      `  logfile: "${path.join(dir, 'unbound.log')}"`,
      '  verbosity: 1',
      '  val-log-level: 2',
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      `  pidfile: "${path.join(dir, 'unbound.pid')}"`,
      '  access-control: 127.0.0.0/8 allow',
      '  module-config: "validator iterator"',
      '  do-not-query-localhost: no',
      // RFC 6761 special names: unbound answers them itself unless told not to.
      ...[...new Set(zones.map((z) => z.name.split('.').at(-1)))].map(
        (tld) => `  local-zone: "${tld}." nodefault`,
      ),
      ...anchors.map((a) => `  trust-anchor-file: "${a}"`),
      ...authZones,
      '',
    ].join('\n'),
  );
  execFileSync('/usr/sbin/unbound-checkconf', [conf], { stdio: 'pipe' });
  const proc = spawnPeer('/usr/sbin/unbound', ['-d', '-c', conf]);
  const log = (): string => {
    const file = path.join(dir, 'unbound.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  };
  try {
    await waitForPort(port, '127.0.0.1', 20_000);
  } catch (e) {
    await proc.stop();
    throw new Error(`unbound did not start: ${proc.output()} ${log()}`, { cause: e });
  }
  return {
    host: '127.0.0.1',
    port,
    log,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function authZone(name: string, file: string): string {
  return [
    'auth-zone:',
    `  name: "${name}"`,
    `  zonefile: "${file}"`,
    '  for-downstream: no',
    '  for-upstream: yes',
    '  fallback-enabled: no',
  ].join('\n');
}
