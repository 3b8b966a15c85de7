/**
 * A private certificate authority for tests (Debian's `openssl`): a CA certificate that a test
 * tells its client to trust, and server certificates it issues for given names, so that TLS
 * with real validation (MTA-STS, DANE-TA) can be tested on loopback.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface IssuedCertificate {
  /** The leaf certificate (PEM). */
  readonly cert: string;
  /** Leaf then CA: what a server presents. */
  readonly chain: string;
  readonly key: string;
}

export interface TestCa {
  /** The CA certificate (PEM), to trust. */
  readonly cert: string;
  readonly certFile: string;
  /** A server certificate for `names` (DNS SANs; the first is also the CN). */
  issue(names: readonly string[]): IssuedCertificate;
  close(): void;
}

const openssl = (args: string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
};

export function createTestCa(name = 'MTA Test CA'): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'mta-ca-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '3',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const cert = readFileSync(path.join(dir, 'ca.pem'), 'utf8');
  let serial = 0;
  return {
    cert,
    certFile: path.join(dir, 'ca.pem'),
    issue(names) {
      const n = ++serial;
      const ext = path.join(dir, `leaf${n}.ext`);
      writeFileSync(
        ext,
        `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${names.map((x) => `DNS:${x}`).join(',')}\n`,
      );
      openssl(
        [
          'req',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          `leaf${n}.key`,
          '-out',
          `leaf${n}.csr`,
          '-subj',
          `/CN=${names[0]}`,
        ],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `leaf${n}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-set_serial',
          String(1000 + n),
          '-extfile',
          ext,
          '-out',
          `leaf${n}.pem`,
          '-days',
          '2',
        ],
        dir,
      );
      const leaf = readFileSync(path.join(dir, `leaf${n}.pem`), 'utf8');
      return { cert: leaf, chain: leaf + cert, key: readFileSync(path.join(dir, `leaf${n}.key`), 'utf8') };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
