import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';
import { DependencyOutage, Outages, addressOf, causeOf } from './outage';

function recorder() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) =>
    lines.push({ level, fields: { ...fields }, message });
  return { lines, error: at('error'), warn: at('warn'), info: at('info') };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

describe('DependencyOutage', () => {
  it('says it once, then once a minute with how often callers hit it, then that it is back', () => {
    let now = 0;
    const log = recorder();
    const outage = new DependencyOutage('redis', '127.0.0.1:6379', log, { now: () => now });
    expect(outage.reason()).toBeUndefined();
    for (let i = 0; i < 50; i++) outage.failed(refused());
    expect(log.lines).toEqual([
      {
        level: 'error',
        fields: { dependency: 'redis', address: '127.0.0.1:6379', cause: 'connect ECONNREFUSED 127.0.0.1:6379' },
        message:
          'redis at 127.0.0.1:6379 is unreachable: connect ECONNREFUSED 127.0.0.1:6379; retrying, one line a minute while it lasts',
      },
    ]);
    now = 59_999; // just inside the minute
    expect(outage.swallows('delivery worker: connect ECONNREFUSED 127.0.0.1:6379')).toBe(true);
    outage.failed(refused());
    expect(log.lines).toHaveLength(1);
    now = 60_000; // at the minute
    outage.failed(refused());
    expect(log.lines[1]).toMatchObject({
      level: 'warn',
      fields: { suppressed: 1 },
      message: 'redis at 127.0.0.1:6379 still unreachable after 60 s: connect ECONNREFUSED 127.0.0.1:6379',
    });
    expect(outage.reason()).toBe('unreachable at 127.0.0.1:6379 for 60 s: connect ECONNREFUSED 127.0.0.1:6379');
    now = 180_000;
    outage.answered();
    expect(log.lines[2]).toMatchObject({ level: 'info', message: 'redis at 127.0.0.1:6379 answers again after 3 min' });
    expect(outage.reason()).toBeUndefined();
    // Up again: other errors naming the address are logged as they are.
    expect(outage.swallows('READONLY You can’t write against a read only replica (127.0.0.1:6379)')).toBe(false);
    outage.answered(); // already up: nothing to say
    expect(log.lines).toHaveLength(3);
  });

  it('takes the cause from the innermost error and from Prisma’s wording', () => {
    const inner = new Error('outer', { cause: new Error('connect ECONNREFUSED 10.0.0.1:5432') });
    expect(causeOf(inner)).toBe('connect ECONNREFUSED 10.0.0.1:5432');
    expect(
      causeOf(new Error('\nInvalid `db.message.findMany()` invocation:\n\nRaw query failed. Code: `N/A`. Message: `Can\'t reach database server at 127.0.0.1:1`')),
    ).toBe("Can't reach database server at 127.0.0.1:1");
  });

  it('names the address of a URL without its credentials', () => {
    expect(addressOf('postgresql://u:secret@db.internal/mta', 5432)).toBe('db.internal:5432');
    expect(addressOf('redis://:pw@[::1]:6380', 6379)).toBe('[::1]:6380');
  });
});

describe('the logger during an outage', () => {
  it('starts the outage from whichever connection fails first, then drops what repeats it', () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += chunk.toString()), done()) });
    const outages = new Outages();
    const logger = createLogger('test', 'info', sink, outages);
    outages.add(new DependencyOutage('redis', '127.0.0.1:6379', logger, { clientMessages: /Connection is closed/ }));
    logger.warn({ err: 'Connection is closed.' }, 'no outage known yet, and no address: logged');
    // A worker's connection notices first: its line becomes the outage's one line.
    logger.child({ module: 'queue-manager' }).error({ err: 'connect ECONNREFUSED 127.0.0.1:6379' }, 'worker: redis error');
    logger.child({ module: 'delivery' }).error({ err: refused() }, 'during: dropped');
    logger.warn({ err: 'Connection is closed.' }, 'during: dropped too');
    logger.error({ err: 'disk full' }, 'during, another error: logged');
    logger.info({ err: 'connect ECONNREFUSED 127.0.0.1:6379' }, 'during, info: logged');
    logger.error({ err: 'connect ECONNREFUSED 127.0.0.1:5432' }, 'another address, no outage of it: logged');
    const messages = out.trim().split('\n').map((l) => JSON.parse(l).msg as string);
    expect(messages).toEqual([
      'no outage known yet, and no address: logged',
      'redis at 127.0.0.1:6379 is unreachable: connect ECONNREFUSED 127.0.0.1:6379; retrying, one line a minute while it lasts',
      'during, another error: logged',
      'during, info: logged',
      'another address, no outage of it: logged',
    ]);
  });
});
