/**
 * Reads ValiMail's ARC test suites (fixtures/arc/*.yml, format in that repository's README):
 * scenarios of messages with the key records they need (`txt-records`), and for the signing
 * suite the signer's domain, selector and private key. Messages are given with CRLF line ends,
 * as they travel in SMTP; key records are split into character-strings of at most 255 octets,
 * as a zone file must publish a longer TXT record (RFC 1035 §3.3.14, RFC 6376 §3.6.2.2).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { FakeRecord } from '@mta/testing';
import { FIXTURES } from './spf-suite';

export interface ArcValidationCase {
  id: string;
  description: string;
  message: Buffer;
  /** expected chain validation status, lower case: pass, fail, none, or '' (see the spec) */
  cv: string;
}

export interface ArcSignCase {
  id: string;
  description: string;
  message: Buffer;
  t: number;
  sigHeaders: string;
  srvId: string;
  /** expected header values, '' where no ARC set is to be added */
  AS: string;
  AMS: string;
  AAR: string;
}

export interface ArcScenario<C> {
  description: string;
  records: FakeRecord[];
  cases: C[];
  domain?: string;
  sel?: string;
  privatekey?: string;
}

type RawScenario = {
  description?: string;
  tests?: Record<string, Record<string, unknown>>;
  'txt-records'?: Record<string, string>;
  domain?: string;
  sel?: string;
  privatekey?: string;
};

const crlf = (text: unknown) => Buffer.from(String(text ?? '').replace(/\r?\n/g, '\r\n'));

function scenarios(file: string): RawScenario[] {
  return parseAllDocuments(readFileSync(path.join(FIXTURES, 'arc', file), 'utf8'))
    .map((doc) => doc.toJS() as RawScenario | null)
    .filter((doc): doc is RawScenario => Boolean(doc?.tests));
}

export function txtRecordsOf(records: Record<string, string> | undefined): FakeRecord[] {
  return Object.entries(records ?? {}).map(([name, value]) => {
    const bytes = Buffer.from(value.trim());
    const strings: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 255) strings.push(bytes.subarray(at, at + 255));
    return { type: 'TXT', name, ttl: 300, data: strings };
  });
}

export function loadArcValidationSuite(): ArcScenario<ArcValidationCase>[] {
  return scenarios('arc-draft-validation-tests.yml').map((s) => ({
    description: String(s.description ?? '').trim(),
    records: txtRecordsOf(s['txt-records']),
    cases: Object.entries(s.tests ?? {}).map(([id, t]) => ({
      id,
      description: String(t['description'] ?? ''),
      message: crlf(t['message']),
      cv: String(t['cv'] ?? '')
        .trim()
        .toLowerCase(),
    })),
  }));
}

export function loadArcSignSuite(): ArcScenario<ArcSignCase>[] {
  return scenarios('arc-draft-sign-tests.yml').map((s) => ({
    description: String(s.description ?? '').trim(),
    records: txtRecordsOf(s['txt-records']),
    domain: s.domain,
    sel: s.sel,
    privatekey: s.privatekey,
    cases: Object.entries(s.tests ?? {}).map(([id, t]) => ({
      id,
      description: String(t['description'] ?? ''),
      message: crlf(t['message']),
      t: Number(t['t']),
      sigHeaders: String(t['sig-headers'] ?? ''),
      srvId: String(t['srv-id'] ?? ''),
      AS: String(t['AS'] ?? '').trim(),
      AMS: String(t['AMS'] ?? '').trim(),
      AAR: String(t['AAR'] ?? '').trim(),
    })),
  }));
}

/** A header value as the suite's driver compares it: whitespace removed, the set of `;` parts. */
export function tagSet(value: string): string[] {
  return [...new Set(value.replace(/\s+/g, '').split(';').filter(Boolean))].sort();
}
