import { afterEach, describe, expect, it } from 'vitest';
import { requirePeer } from './required-peer';

describe('requirePeer', () => {
  const ci = process.env['CI'];
  afterEach(() => {
    if (ci === undefined) delete process.env['CI'];
    else process.env['CI'] = ci;
  });

  it('lets a suite run when its peer is there, CI or not', () => {
    process.env['CI'] = 'true';
    expect(requirePeer('smtp-sink', true)).toBe(true);
    delete process.env['CI'];
    expect(requirePeer('smtp-sink', true)).toBe(true);
  });

  it('skips without the peer on a developer machine, and fails under CI=true', () => {
    delete process.env['CI'];
    expect(requirePeer('dovecot', false)).toBe(false);
    process.env['CI'] = 'true';
    expect(() => requirePeer('dovecot', false)).toThrow(/dovecot is required under CI=true/);
  });
});
