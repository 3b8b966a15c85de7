import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configPath, resolveSettings, writeConfigFile } from './config';

describe('config', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mtactl-config-'));
  afterEach(() => rmSync(path.join(dir, 'c'), { recursive: true, force: true }));

  it('lives in MTACTL_CONFIG, else under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ MTACTL_CONFIG: '/x/y.json', XDG_CONFIG_HOME: '/xdg' })).toBe('/x/y.json');
    expect(configPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/home/a' })).toBe('/xdg/mtactl/config.json');
    expect(configPath({ HOME: '/home/a' })).toBe('/home/a/.config/mtactl/config.json');
  });

  it('is written with mode 0600 in a 0700 directory whatever the umask', async () => {
    const file = path.join(dir, 'c', 'mtactl', 'config.json');
    const umask = process.umask(0);
    try {
      await writeConfigFile(file, { url: 'http://mta:8080', token: 't' });
    } finally {
      process.umask(umask);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('--url wins over MTA_URL over the file; MTA_TOKEN over the file; a readable token file is warned about', async () => {
    const file = path.join(dir, 'c', 'config.json');
    await writeConfigFile(file, { url: 'http://file:8080', token: 'from-file' });
    const warnings: string[] = [];
    const warn = (line: string) => warnings.push(line);
    const env = { MTACTL_CONFIG: file };
    expect(await resolveSettings(env, undefined, warn)).toMatchObject({
      url: 'http://file:8080',
      token: 'from-file',
    });
    expect(
      await resolveSettings({ ...env, MTA_URL: 'http://env:1', MTA_TOKEN: 'env' }, undefined, warn),
    ).toMatchObject({
      url: 'http://env:1',
      token: 'env',
      tokenFrom: 'MTA_TOKEN',
    });
    expect((await resolveSettings({ ...env, MTA_URL: 'http://env:1' }, 'http://flag:2', warn)).url).toBe(
      'http://flag:2',
    );
    expect(warnings).toEqual([]);
    chmodSync(file, 0o644);
    await resolveSettings(env, undefined, warn);
    expect(warnings).toEqual([`warning: ${file} holds a token and others may read it: chmod 600 ${file}`]);
    await expect(resolveSettings({ MTA_URL: 'ftp://x' }, undefined, warn)).rejects.toThrow(
      'not an http(s) URL',
    );
  });
});
