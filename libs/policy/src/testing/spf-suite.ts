/**
 * Reads the OpenSPF RFC 7208 test suite (fixtures/spf/rfc7208-tests.yml) into scenarios the
 * fake DNS server can serve. The suite's zone conventions (its README and pyspf's driver,
 * test/testspf.py) are applied as its drivers apply them:
 * - `SPF:` records are also served as TXT when the name has no `TXT:` entry at all ("auto-magic
 *   duplication"); `TXT: NONE` means "no TXT record, and do not duplicate";
 * - a bare `TIMEOUT` entry makes every question for the name whose type has no entry before it
 *   go unanswered (so `TXT: v=spf1 -all` then `TIMEOUT` answers TXT and times out on the rest);
 * - a name under `error.` that the zone does not hold times out.
 * Type SPF (99) is not served: RFC 7208 §3.1 removed it, and mailauth never asks for it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { FakeRecord, Fault } from '@mta/testing';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');

export interface SpfCase {
  id: string;
  spec?: string | string[];
  description?: string;
  host: string;
  helo: string;
  mailfrom: string;
  /** the result, or the results any of which passes */
  result: string | string[];
}

export interface SpfScenario {
  description: string;
  records: FakeRecord[];
  faultFor: (name: string, type: string) => Fault | undefined;
  cases: SpfCase[];
}

type Entry = 'TIMEOUT' | Record<string, unknown>;

export function loadSpfSuite(file = path.join(FIXTURES, 'spf', 'rfc7208-tests.yml')): SpfScenario[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map(
      (doc) =>
        doc.toJS() as {
          description?: string;
          tests?: Record<string, Omit<SpfCase, 'id'>>;
          zonedata?: Record<string, Entry[]>;
        } | null,
    )
    .filter((doc) => doc?.tests)
    .map((doc) => {
      const zone = normaliseZone(doc?.zonedata ?? {});
      return {
        description: String(doc?.description ?? '').trim(),
        records: [...zone.entries()].flatMap(([name, entries]) => entries.flatMap((e) => toRecords(name, e))),
        faultFor: (name: string, type: string) => (timesOut(zone, name, type) ? 'drop' : undefined),
        cases: Object.entries(doc?.tests ?? {}).map(([id, test]) => ({
          id,
          ...test,
          mailfrom: String(test.mailfrom ?? ''),
        })),
      };
    });
}

/** Names in lower case, and the SPF-to-TXT duplication applied (appended, as pyspf does). */
function normaliseZone(zonedata: Record<string, Entry[]>): Map<string, Entry[]> {
  const zone = new Map<string, Entry[]>();
  for (const [name, entries] of Object.entries(zonedata)) {
    const list = [...(entries ?? [])];
    const hasTxt = list.some((e) => e !== 'TIMEOUT' && 'TXT' in e);
    const generated = hasTxt
      ? []
      : list.filter((e) => e !== 'TIMEOUT' && 'SPF' in e).map((e) => ({ TXT: (e as { SPF: unknown }).SPF }));
    const key = name.toLowerCase().replace(/\.$/, '');
    zone.set(key, [...(zone.get(key) ?? []), ...list, ...generated]);
  }
  return zone;
}

function timesOut(zone: Map<string, Entry[]>, name: string, type: string): boolean {
  const entries = zone.get(name);
  if (!entries) return name.startsWith('error.');
  for (const entry of entries) {
    if (entry === 'TIMEOUT') return true;
    // `TXT: NONE` is no record: pyspf drops it before looking for the TIMEOUT
    if (type in entry && entry[type] !== 'NONE') return false;
  }
  return false;
}

function toRecords(name: string, entry: Entry): FakeRecord[] {
  if (entry === 'TIMEOUT') return [];
  const [[type, value]] = Object.entries(entry);
  if (value === 'NONE') return [];
  const ttl = 300;
  switch (type) {
    case 'TXT':
      return [{ type: 'TXT', name, ttl, data: (Array.isArray(value) ? value : [value]).map(String) }];
    case 'MX': {
      const [preference, exchange] = value as [number, string];
      return [{ type: 'MX', name, ttl, data: { preference, exchange } }];
    }
    case 'A':
    case 'AAAA':
    case 'PTR':
    case 'CNAME':
      return [{ type, name, ttl, data: String(value) }];
    case 'SPF':
      return [];
    default:
      throw new Error(`rfc7208-tests.yml: record type ${type} of ${name} not understood`);
  }
}
