/**
 * Maildir delivery on a temp directory: the tmp → new protocol, the added trace headers,
 * LF line endings, unsafe names, and failures that must leave nothing behind.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDeliveryAgent } from './local/local-agent';
import { CrlfToLf, MaildirDeliveryAgent } from './local/maildir-agent';
import { maildirOf, uniqueName } from './local/maildir-name';
import { asLf, message, request } from './test/fixtures';

const UNIQUE = /^\d+\.M\d+P\d+Q\d+\.[^/:]+$/; // time.M<usec>P<pid>Q<n>.<host>

describe('MaildirDeliveryAgent', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'maildir-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const box = (domain: string, local: string, sub: string): string[] =>
    readdirSync(path.join(root, domain, local, 'Maildir', sub));

  it('writes one file per recipient into new/, leaving tmp/ empty, with Return-Path and Delivered-To on top', async () => {
    const agent = new MaildirDeliveryAgent({ root });
    const body = message('maildir');
    const report = await agent.deliver(request(['alice@local.test', 'Bob@Local.TEST'], body));
    expect(report.status).toBe('attempted');
    for (const r of report.results) {
      expect(r).toMatchObject({
        kind: 'delivered',
        code: 250,
        enhanced: '2.0.0',
        source: 'local',
        remote: { host: 'maildir' },
      });
    }
    for (const [local, rcpt] of [
      ['alice', 'alice@local.test'],
      ['bob', 'Bob@Local.TEST'],
    ]) {
      const files = box('local.test', local, 'new');
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(UNIQUE);
      expect(box('local.test', local, 'tmp')).toEqual([]);
      expect(box('local.test', local, 'cur')).toEqual([]);
      const stored = readFileSync(path.join(root, 'local.test', local, 'Maildir', 'new', files[0]), 'latin1');
      expect(stored).toBe(`Return-Path: <sender@example.org>\nDelivered-To: ${rcpt}\n` + asLf(body));
    }
    expect(report.results[0].text).toContain(box('local.test', 'alice', 'new')[0]);
  });

  describe('permissions (MAILDIR_FILE_MODE, MAILDIR_DIR_MODE, MAILDIR_OWNER)', () => {
    const mode = (p: string): number => statSync(p).mode & 0o7777;
    let umask: number;
    beforeEach(() => {
      umask = process.umask(0o077); // a strict umask must not narrow what was asked for
    });
    afterEach(() => {
      process.umask(umask);
    });

    it('by default: files 0660, every directory it creates 2770 (group rw for Dovecot, setgid)', async () => {
      const agent = new MaildirDeliveryAgent({ root });
      await agent.deliver(request(['alice@local.test'], message('modes')));
      await agent.deliver(request(['alice@local.test'], message('quarantined'), { quarantine: true }));
      const maildir = path.join(root, 'local.test', 'alice', 'Maildir');
      for (const dir of [
        path.join(root, 'local.test'),
        path.join(root, 'local.test', 'alice'),
        maildir,
        ...['tmp', 'new', 'cur', '.Junk', '.Junk/new'].map((d) => path.join(maildir, d)),
      ])
        expect([dir, mode(dir).toString(8)]).toEqual([dir, '2770']);
      const file = path.join(maildir, 'new', box('local.test', 'alice', 'new')[0]);
      expect(mode(file).toString(8)).toBe('660');
      expect(mode(path.join(maildir, '.Junk', 'maildirfolder')).toString(8)).toBe('660');
      expect(mode(root).toString(8)).toBe('700'); // the root is the operator's: left alone
    });

    it('as configured, and existing directories keep theirs', async () => {
      const agent = new MaildirDeliveryAgent({ root, fileMode: 0o640, dirMode: 0o750 });
      await agent.deliver(request(['bob@local.test'], message('configured')));
      const maildir = path.join(root, 'local.test', 'bob', 'Maildir');
      expect(mode(maildir).toString(8)).toBe('750');
      expect(mode(path.join(maildir, 'new', box('local.test', 'bob', 'new')[0])).toString(8)).toBe('640');
      chmodSync(maildir, 0o700); // an operator's choice for one mailbox
      await agent.deliver(request(['bob@local.test'], message('again')));
      expect(mode(maildir).toString(8)).toBe('700');
      expect(box('local.test', 'bob', 'new')).toHaveLength(2);
    });

    it.skipIf(process.getuid?.() !== 0)('as root: gives files and directories to MAILDIR_OWNER', async () => {
      const agent = new MaildirDeliveryAgent({ root, owner: { uid: 65534, gid: 65534 } });
      await agent.deliver(request(['carol@local.test'], message('owned')));
      const maildir = path.join(root, 'local.test', 'carol', 'Maildir');
      const file = path.join(maildir, 'new', box('local.test', 'carol', 'new')[0]);
      for (const p of [path.join(root, 'local.test'), maildir, path.join(maildir, 'new'), file])
        expect([p, statSync(p).uid, statSync(p).gid]).toEqual([p, 65534, 65534]);
      expect(mode(maildir).toString(8)).toBe('2770'); // chown did not drop setgid
      expect(mode(file).toString(8)).toBe('660');
    });
  });

  it('files a quarantined message (DMARC p=quarantine) in the Maildir++ Junk folder, not the inbox', async () => {
    const agent = new MaildirDeliveryAgent({ root });
    const body = message('quarantined');
    const report = await agent.deliver(request(['alice@local.test'], body, { quarantine: true }));
    expect(report.results[0]).toMatchObject({ kind: 'delivered', code: 250 });
    expect(report.results[0].text).toContain('Junk');
    expect(box('local.test', 'alice', 'new')).toEqual([]);
    const junk = path.join(root, 'local.test', 'alice', 'Maildir', '.Junk');
    expect(readdirSync(junk).sort()).toEqual(['cur', 'maildirfolder', 'new', 'tmp']);
    const [file] = readdirSync(path.join(junk, 'new'));
    expect(readFileSync(path.join(junk, 'new', file), 'latin1')).toBe(
      `Return-Path: <sender@example.org>\nDelivered-To: alice@local.test\n` + asLf(body),
    );
    // a second one reuses the folder
    await agent.deliver(request(['alice@local.test'], message('again'), { quarantine: true }));
    expect(readdirSync(path.join(junk, 'new'))).toHaveLength(2);
  });

  it('writes Return-Path: <> for the null sender (a bounce)', async () => {
    const agent = new MaildirDeliveryAgent({ root });
    const req = request(['alice@local.test'], message('bounce'), { envelope: { sender: '' } });
    await agent.deliver(req);
    const [file] = box('local.test', 'alice', 'new');
    expect(readFileSync(path.join(root, 'local.test', 'alice', 'Maildir', 'new', file), 'latin1')).toMatch(
      /^Return-Path: <>\n/,
    );
  });

  it('refuses mailbox names that could leave the tree (550 5.1.3), writing nothing', async () => {
    const agent = new MaildirDeliveryAgent({ root });
    const report = await agent.deliver(
      request(['../../etc@local.test', '.hidden@local.test', 'a@../x', 'nobody'], message('evil')),
    );
    for (const r of report.results) expect(r).toMatchObject({ kind: 'failed', code: 550, enhanced: '5.1.3' });
    expect(readdirSync(root)).toEqual([]);
  });

  it('defers and removes the partial file when the body cannot be read', async () => {
    const agent = new MaildirDeliveryAgent({ root });
    const failing = () =>
      new Readable({
        read() {
          this.destroy(new Error('database went away'));
        },
      });
    const report = await agent.deliver({ ...request(['alice@local.test'], Buffer.alloc(0)), body: failing });
    expect(report.results[0]).toMatchObject({ kind: 'deferred', code: 451, enhanced: '4.3.0' });
    expect(report.results[0].text).toMatch(/database went away/);
    expect(box('local.test', 'alice', 'tmp')).toEqual([]);
    expect(box('local.test', 'alice', 'new')).toEqual([]);
  });

  it('defers when the tree cannot be written (a file where a directory should be)', async () => {
    writeFileSync(path.join(root, 'local.test'), 'not a directory');
    const agent = new MaildirDeliveryAgent({ root });
    const report = await agent.deliver(request(['alice@local.test'], message('enotdir')));
    expect(report.results[0]).toMatchObject({
      kind: 'deferred',
      code: 451,
      enhanced: '4.3.0',
      source: 'local',
    });
  });

  it('is what LOCAL_DELIVERY=maildir:/path builds', async () => {
    const agent = createLocalDeliveryAgent({ kind: 'maildir', path: root }, { heloName: 'x.example' });
    const report = await agent.deliver(request(['carol@local.test'], message('factory')));
    expect(report.results[0].kind).toBe('delivered');
    await agent.close();
  });
});

describe('Maildir names', () => {
  it('are unique within one process and follow time.M<usec>P<pid>Q<n>.<host>', () => {
    const names = Array.from({ length: 1000 }, () => uniqueName());
    expect(new Set(names).size).toBe(1000);
    for (const n of names.slice(0, 10)) expect(n).toMatch(UNIQUE);
    expect(names[0]).toContain(`P${process.pid}Q`);
  });

  it('map a recipient to <root>/<domain>/<localpart>/Maildir, folded to lower case', () => {
    expect(maildirOf('/srv/mail', 'Jean.Dupont@Example.ORG')).toEqual({
      dir: '/srv/mail/example.org/jean.dupont/Maildir',
    });
    expect(maildirOf('/srv/mail', 'a\\b@x.test')).toHaveProperty('error');
    expect(maildirOf('/srv/mail', 'a@')).toHaveProperty('error');
  });
});

describe('CrlfToLf', () => {
  it('turns CRLF into LF whatever the chunk boundaries, and keeps a lone CR', () => {
    const input = Buffer.from('a\r\nb\r\n\r\nc\rd\r\n\r', 'latin1');
    const expected = 'a\nb\n\nc\rd\n\r';
    for (let cut = 0; cut <= input.length; cut++) {
      for (let cut2 = cut; cut2 <= input.length; cut2++) {
        const lf = new CrlfToLf();
        const out = Buffer.concat([
          lf.push(input.subarray(0, cut)),
          lf.push(input.subarray(cut, cut2)),
          lf.push(input.subarray(cut2)),
          lf.end(),
        ]);
        expect(out.toString('latin1')).toBe(expected);
      }
    }
  });
});
