import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes one JSON line per event with the service, level name and queue id', () => {
    const { lines, stream } = capture();
    const logger = createLogger('mx', 'info', stream);
    logger.child({ queueId: 'Q1ABC' }).info({ result: 'accepted' }, 'message accepted');
    logger.debug('not at info level');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'mx',
      level: 'info',
      queueId: 'Q1ABC',
      result: 'accepted',
      msg: 'message accepted',
    });
  });

  it('redacts passwords and tokens', () => {
    const { lines, stream } = capture();
    createLogger('submission', 'info', stream).info(
      { user: 'alice', password: 'hunter2', auth: { token: 't0k' } },
      'login',
    );
    expect(JSON.stringify(lines[0])).not.toContain('hunter2');
    expect(JSON.stringify(lines[0])).not.toContain('t0k');
    expect(lines[0]).toMatchObject({ user: 'alice', password: '[redacted]' });
  });
});
