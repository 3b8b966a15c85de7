import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '@mta/config';
import { describe, expect, it } from 'vitest';
import { childSpecs } from './supervise';

const config = (workers: string) => loadConfig({ NODE_ENV: 'development', ALL_IN_ONE_DELIVERY_WORKERS: workers });

describe('childSpecs', () => {
  it('runs each service from its own bundle, and ALL_IN_ONE_DELIVERY_WORKERS delivery workers', () => {
    const specs = childSpecs(config('3'), { A: '1' }, '/opt/mta/dist/apps');
    expect(specs.map((s) => s.name)).toEqual(['mx', 'submission', 'queue', 'policy', 'admin-api', 'delivery-1', 'delivery-2', 'delivery-3']);
    expect(specs.map((s) => s.args.at(-1))).toEqual(
      ['mx', 'submission', 'queue', 'policy', 'admin-api', 'delivery', 'delivery', 'delivery'].map((a) =>
        path.join('/opt/mta/dist/apps', a, 'main.js'),
      ),
    );
    expect(specs.every((s) => s.command === process.execPath && s.env['A'] === '1')).toBe(true);
    // Each child is told its name, for its log lines.
    expect(specs.map((s) => s.env['ALL_IN_ONE_CHILD'])).toEqual(specs.map((s) => s.name));
  });

  it('gives admin-api its ADMIN_LISTEN and every other child its HEALTH_LISTEN', () => {
    const byName = new Map(childSpecs(config('1'), {}, '/d').map((s) => [s.name, s.httpListenVariable]));
    expect(Object.fromEntries(byName)).toEqual({
      mx: 'HEALTH_LISTEN',
      submission: 'HEALTH_LISTEN',
      queue: 'HEALTH_LISTEN',
      policy: 'HEALTH_LISTEN',
      'admin-api': 'ADMIN_LISTEN',
      delivery: 'HEALTH_LISTEN',
    });
  });
});

describe('ALL_IN_ONE_DELIVERY_WORKERS and ALL_IN_ONE_MODE', () => {
  it('take 1 to 64 workers, and refuse 0 and 65 naming the variable', () => {
    expect(childSpecs(config('1'), {}, '/d')).toHaveLength(6);
    expect(childSpecs(config('64'), {}, '/d')).toHaveLength(5 + 64);
    for (const bad of ['0', '65']) {
      expect(() => config(bad)).toThrow(ConfigError);
      expect(() => config(bad)).toThrow(/ALL_IN_ONE_DELIVERY_WORKERS/);
    }
  });

  it('default to one worker per two cores (at least one), in supervise mode; a mode other than supervise or single is refused', () => {
    const defaults = loadConfig({ NODE_ENV: 'development' });
    expect(defaults.ALL_IN_ONE_DELIVERY_WORKERS).toBe(Math.max(1, Math.floor(os.availableParallelism() / 2)));
    expect(defaults.ALL_IN_ONE_MODE).toBe('supervise');
    expect(() => loadConfig({ ALL_IN_ONE_MODE: 'both' })).toThrow(/ALL_IN_ONE_MODE/);
  });
});

describe('ALL_IN_ONE_BACKGROUND_NICE', () => {
  const niceness = (env: Record<string, string>) =>
    Object.fromEntries(childSpecs(loadConfig({ NODE_ENV: 'development', ALL_IN_ONE_DELIVERY_WORKERS: '2', ...env }), {}, '/d').map((s) => [s.name, s.nice]));

  it('lowers the queue manager and every delivery worker to 10 by default; the children that answer clients keep the supervisor\'s', () => {
    expect(niceness({})).toEqual({ mx: 0, submission: 0, queue: 10, policy: 0, 'admin-api': 0, 'delivery-1': 10, 'delivery-2': 10 });
  });

  it('takes 0 (all alike) to 19, and refuses -1 and 20 naming the variable', () => {
    expect(niceness({ ALL_IN_ONE_BACKGROUND_NICE: '0' })['queue']).toBe(0);
    expect(niceness({ ALL_IN_ONE_BACKGROUND_NICE: '0' })['delivery-2']).toBe(0);
    expect(niceness({ ALL_IN_ONE_BACKGROUND_NICE: '19' })['delivery-1']).toBe(19);
    for (const bad of ['-1', '20']) expect(() => niceness({ ALL_IN_ONE_BACKGROUND_NICE: bad })).toThrow(/ALL_IN_ONE_BACKGROUND_NICE/);
  });
});
