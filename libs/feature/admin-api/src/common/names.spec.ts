import { describe, expect, it } from 'vitest';
import { normalizeAddress, normalizeDomain } from './names';

describe('normalizeDomain', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM.', 'example.com'],
    ['  mail.example.org ', 'mail.example.org'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['a-b.example', 'a-b.example'],
  ])('%s → %s', (input, expected) => expect(normalizeDomain(input)).toBe(expected));

  it.each([
    '',
    'localhost',
    'a..b',
    '-a.example',
    'a-.example',
    'a_b.example',
    'exa mple.com',
    '1.2.3.4',
    `${'a'.repeat(64)}.example`,
  ])('refuses %j', (input) => expect(normalizeDomain(input)).toBeUndefined());
});

describe('normalizeAddress', () => {
  it.each([
    ['alice@example.com', 'alice@example.com'],
    ['Alice.Smith@EXAMPLE.com', 'Alice.Smith@example.com'],
    ['user+tag@example.com', 'user+tag@example.com'],
    ['jörg@bücher.example', 'jörg@xn--bcher-kva.example'],
  ])('%s → %s', (input, expected) => expect(normalizeAddress(input)).toBe(expected));

  it.each([
    'alice',
    '@example.com',
    'a@b',
    'a b@example.com',
    '.a@example.com',
    'a.@example.com',
    'a..b@example.com',
    '"q"@example.com',
    `${'a'.repeat(65)}@example.com`,
  ])('refuses %j', (input) => expect(normalizeAddress(input)).toBeUndefined());
});
