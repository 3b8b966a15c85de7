import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FAMILIES, run } from './cli';

async function mtactl(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await run(argv, {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: { MTACTL_CONFIG: '/nonexistent/mtactl.json' },
    signal: new AbortController().signal,
  });
  return { code, out, err };
}

describe('mtactl command line', () => {
  it('has the command families of the issue', () => {
    expect(Object.keys(FAMILIES).sort()).toEqual(
      [
        'accounts',
        'aliases',
        'dkim',
        'domains',
        'events',
        'login',
        'messages',
        'queue',
        'shaping',
        'suppressions',
        'tokens',
      ].sort(),
    );
    expect(Object.keys(FAMILIES['messages']?.commands ?? {})).toEqual(
      expect.arrayContaining(['list', 'show', 'raw', 'retry', 'hold', 'release', 'delete']),
    );
  });

  it('prints help with exit 0, and every usage error with exit 2 and one line', async () => {
    expect(await mtactl('--help')).toMatchObject({
      code: 0,
      out: expect.stringContaining('usage: mtactl <command>'),
    });
    expect(await mtactl('domains', '--help')).toMatchObject({
      code: 0,
      out: expect.stringContaining('mtactl domains add <domain>'),
    });
    for (const argv of [
      [],
      ['frob'],
      ['domains', 'frob'],
      ['domains', 'add'],
      ['domains', 'list', 'extra'],
      ['queue', '--x'],
    ]) {
      const result = await mtactl(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err, argv.join(' ')).toMatch(/^mtactl: /);
    }
    expect((await mtactl('messages', 'list', '--limit', '0')).err).toBe(
      'mtactl: --limit: expected a whole number of at least 1, got "0"\n',
    );
  });

  it('needs a token before it asks the API: exit 4', async () => {
    expect(await mtactl('queue')).toEqual({
      code: 4,
      out: '',
      err: 'mtactl: no API token: run `mtactl login` or set MTA_TOKEN\n',
    });
  });
});
