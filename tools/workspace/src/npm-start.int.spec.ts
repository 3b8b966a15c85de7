/**
 * `npm start` on a machine where nothing runs: a copy of this checkout, started inside a network
 * namespace of its own, where nothing listens on 5432 or 6379 (nor anywhere else). It must start
 * an embedded PostgreSQL and redis-server itself, make an API token, say when it is ready, and
 * then the README's "First mail" commands, run as they are written, must deliver two mails.
 * Ctrl-C (SIGINT to its process group, as a terminal sends it) must stop everything it started.
 *
 * Needs root (`ip netns`); skipped without it, except under CI=true where that is a failure.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { until } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const isRoot = process.getuid?.() === 0;
const ns = `mta-start-${process.pid}`;
const inNs = (cmd: string, args: string[]) => ['netns', 'exec', ns, cmd, ...args];

/** The files of this checkout (tracked and new, not ignored), with node_modules linked in. */
function copyCheckout(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-npm-start-'));
  chmodSync(dir, 0o755); // the embedded PostgreSQL runs as another user and must reach tmp/
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    // Regular files only: a node_modules that is a symlink is not ignored by `node_modules/`.
    .filter((f) => f && existsSync(path.join(root, f)) && lstatSync(path.join(root, f)).isFile());
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(root, file), path.join(dir, file));
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** The shell blocks of the README's "First mail" section, in order. */
function firstMailBlocks(readme: string): string[] {
  const section = readme.split(/^## First mail$/m)[1]?.split(/^## /m)[0] ?? '';
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

function listening(): string {
  return execFileSync('ip', inNs('ss', ['-ltnH']), { encoding: 'utf8' });
}

describe.skipIf(!isRoot && process.env['CI'] !== 'true')('npm start on a bare machine', () => {
  let dir: string;
  let start: ChildProcess;
  let stderr = '';
  let resolver: ChildProcess;

  beforeAll(async () => {
    expect(isRoot, 'this test needs root for ip netns').toBe(true);
    dir = copyCheckout();
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    expect(listening()).toBe('');
    // The mail from someone@elsewhere.example is checked (SPF, DMARC, the client's name): a
    // resolver on the namespace's loopback that knows no names answers NXDOMAIN at once, as the
    // internet does for .example.
    resolver = spawn('ip', inNs('dnsmasq', ['--keep-in-foreground', '--no-resolv', '--no-hosts',
      '--listen-address=127.0.0.1', '--bind-interfaces', '--port=5353', '--local=/#/', '--pid-file=']), { stdio: 'ignore' });
    const env: NodeJS.ProcessEnv = { ...process.env, DNS_SERVERS: '127.0.0.1:5353', LOG_LEVEL: 'warn' };
    for (const name of ['NODE_ENV', 'DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'ADMIN_TOKEN'])
      delete env[name];
    for (const name of Object.keys(env)) if (/_LISTEN$|^npm_/.test(name)) delete env[name];
    // detached: its own process group, so SIGINT below reaches npm and its children as Ctrl-C does.
    start = spawn('ip', inNs('npm', ['start']), { cwd: dir, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    start.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await until('npm start to say it is ready', () => stderr.includes('mta is ready') || start.exitCode !== null, 300_000, 500);
    expect(start.exitCode, stderr).toBeNull();
  }, 330_000);

  afterAll(async () => {
    try {
      if (start?.pid) process.kill(-start.pid, 'SIGKILL');
    } catch {
      // its process group is gone already
    }
    // Whatever still runs in the namespace was started by this test (dnsmasq, a server left behind).
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
    for (const pid of pids) spawnSync('kill', ['-KILL', pid]);
    spawnSync('ip', ['netns', 'delete', ns]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('starts PostgreSQL and Redis of its own, makes a token and says where everything is', () => {
    expect(stderr).toContain('nothing answers on 127.0.0.1:5432: starting an embedded PostgreSQL');
    expect(stderr).toContain('nothing answers on 127.0.0.1:6379: starting redis-server');
    const token = readFileSync(path.join(dir, 'tmp/admin-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(24);
    expect(statSync(path.join(dir, 'tmp/admin-token')).mode & 0o777).toBe(0o600);
    expect(stderr).toContain(`API token    ${token}`);
    expect(stderr).toContain('http://127.0.0.1:8080/api/docs');
    expect(stderr).toMatch(/mx 127\.0\.0\.1:2525, submission 127\.0\.0\.1:2587/);
    expect(listening()).toContain('127.0.0.1:5432');
    expect(listening()).toContain('127.0.0.1:6379');
    expect(existsSync(path.join(dir, 'tmp/postgres/data/PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(dir, 'tmp/redis/appendonlydir'))).toBe(true); // AOF on
  });

  it("delivers the README's first mails, sent with its own commands", async () => {
    const blocks = firstMailBlocks(readFileSync(path.join(dir, 'README.md'), 'utf8'));
    expect(blocks).toHaveLength(4);
    const [setup, send, read, dns] = blocks as [string, string, string, string];
    const sh = (script: string) => {
      const run = spawnSync('ip', inNs('bash', ['-euo', 'pipefail', '-c', script]), { cwd: dir, encoding: 'utf8' });
      expect(run.status, `${script}\n${run.stdout}${run.stderr}`).toBe(0);
      return run.stdout;
    };
    const created = sh(setup);
    expect(created).toContain('"name":"example.test"');
    expect(created).toContain('"address":"alice@example.test"');
    const sent = sh(`${setup.split('\n')[0]}\n${send}`);
    expect(sent.match(/250 2\.0\.0 OK: queued as/g)).toHaveLength(2);
    const maildir = path.join(dir, 'tmp/maildir/example.test/alice/Maildir/new');
    await until('both mails in the Maildir', () => existsSync(maildir) && readdirSync(maildir).length === 2, 60_000);
    const list = sh(`${setup.split('\n')[0]}\n${read}`);
    expect(list).toContain('"subject":"first mail"');
    expect(list).toContain('"subject":"sent as alice"');
    const records = sh(`${setup.split('\n')[0]}\n${dns}`);
    expect(records).toMatch(/example\.test\.\s.*\bMX\b/);
    expect(records).toMatch(/_domainkey\.example\.test\.\s.*TXT.*v=DKIM1/);
  }, 120_000);

  it('uses explicit URLs as given, and without redis-server says in one line how to get one', () => {
    // A second empty namespace: nothing answers there either.
    const bare = `${ns}-bare`;
    const emptyDir = mkdtempSync(path.join(os.tmpdir(), 'mta-no-path-')); // a PATH with nothing on it
    execFileSync('ip', ['netns', 'add', bare]);
    try {
      execFileSync('ip', ['-n', bare, 'link', 'set', 'lo', 'up']);
      const datastores = path.join(dir, 'tools/start/datastores.mjs');
      const ip = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();
      const plan = (env: Record<string, string>) =>
        spawnSync(
          ip,
          ['netns', 'exec', bare, process.execPath, '--input-type=module', '-e',
            `import { startDatastores } from ${JSON.stringify(datastores)};
             startDatastores({ root: ${JSON.stringify(dir)}, env: process.env, development: true, say: () => {} })
               .then((r) => console.log(JSON.stringify(r.notes)), (e) => { console.log(e.message); process.exit(3); });`],
          { env: { ...env, PATH: emptyDir }, encoding: 'utf8' },
        );
      const given = plan({ DATABASE_URL: 'postgresql://postgres@db.invalid/mta', REDIS_URL: 'redis://redis.invalid' });
      expect(given.stdout.trim()).toBe('{"postgres":"DATABASE_URL","redis":"REDIS_URL"}');
      // PostgreSQL given, Redis not, and no redis-server on the PATH (only node's directory).
      const missing = plan({ DATABASE_URL: 'postgresql://postgres@db.invalid/mta' });
      expect(missing.status).toBe(3);
      expect(missing.stdout).toBe(
        'nothing answers on 127.0.0.1:6379 and no redis-server is on the PATH: install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL\n',
      );
    } finally {
      spawnSync('ip', ['netns', 'delete', bare]);
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it('stops what it started on Ctrl-C, after the MTA', async () => {
    if (!start.pid) throw new Error('npm start has no pid');
    process.kill(-start.pid, 'SIGINT');
    const running = () => spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    // npm, the MTA, PostgreSQL and Redis gone: only the test's resolver is left in the namespace.
    await until('everything but the resolver to stop', () => running().join() === String(resolver.pid), 60_000, 250);
    expect(stderr).not.toMatch(/npm start: .*fail/);
  }, 90_000);
});
