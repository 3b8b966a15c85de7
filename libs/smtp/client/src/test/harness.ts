/**
 * Test-only helpers shared by the interoperability specs: free ports and the handle-leak check
 * (from @mta/testing), plus what only this lib's peers need.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as testing from '@mta/testing';

export const { expectNoLeaks, freePort, resourceCounts } = testing;
export type ResourceCounts = testing.ResourceCounts;

export interface TestCert {
  readonly key: string;
  readonly cert: string;
}

/** Self-signed certificate for `cn` (and IP 127.0.0.1) via the openssl CLI. */
export function makeCert(cn = 'mx.test'): TestCert {
  const dir = mkdtempSync(path.join(tmpdir(), 'cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-subj',
        `/CN=${cn}`,
        '-addext',
        `subjectAltName=DNS:${cn},IP:127.0.0.1`,
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
