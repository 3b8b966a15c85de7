import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config';
import { parseDirMode, parseFileMode, parseOwner } from './maildir-settings';

describe('Maildir permissions and owner', () => {
  it('defaults to 0660 files and 2770 (setgid) directories', () => {
    const config = loadConfig({});
    expect(config.MAILDIR_FILE_MODE).toBe(0o660);
    expect(config.MAILDIR_DIR_MODE).toBe(0o2770);
    expect(config.MAILDIR_OWNER).toBeUndefined();
  });

  it('file modes: 0600 to 0777, with or without the leading 0', () => {
    expect(parseFileMode('0600')).toBe(0o600);
    expect(parseFileMode('640')).toBe(0o640);
    expect(parseFileMode('0777')).toBe(0o777);
    expect(parseFileMode('1777')).toMatch(/^expected an octal file mode/); // just past: no special bits
    expect(parseFileMode('0400')).toMatch(/read and write/); // the writer could not write it
    expect(parseFileMode('0868')).toMatch(/^expected/);
    expect(parseFileMode('rw-rw----')).toMatch(/^expected/);
  });

  it('directory modes: the owner keeps rwx; up to 7777', () => {
    expect(parseDirMode('2770')).toBe(0o2770);
    expect(parseDirMode('0700')).toBe(0o700);
    expect(parseDirMode('7777')).toBe(0o7777);
    expect(parseDirMode('0600')).toMatch(/read, write and enter/);
    expect(parseDirMode('17777')).toMatch(/^expected/);
  });

  it('owner: numeric uid:gid, uid, or :gid', () => {
    expect(parseOwner('5000:5000')).toEqual({ uid: 5000, gid: 5000 });
    expect(parseOwner('0')).toEqual({ uid: 0 });
    expect(parseOwner(':8')).toEqual({ gid: 8 });
    expect(parseOwner('4294967294:1')).toEqual({ uid: 4294967294, gid: 1 });
    expect(parseOwner('4294967295:1')).toMatch(/below 4294967295/);
    expect(parseOwner('vmail:mail')).toMatch(/^expected numeric/);
    expect(parseOwner(':')).toMatch(/^expected numeric/);
  });

  it('refuses a bad value at start, naming the variable', () => {
    expect(() => loadConfig({ MAILDIR_FILE_MODE: '0400' })).toThrow(/^MAILDIR_FILE_MODE: /);
    expect(() => loadConfig({ MAILDIR_OWNER: 'vmail' })).toThrow(/^MAILDIR_OWNER: /);
  });
});
