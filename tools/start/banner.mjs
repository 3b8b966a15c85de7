// What `npm start` tells a person once the MTA is ready: where the API, its docs and the SMTP
// ports are, the API token, where PostgreSQL and Redis are, and the next command to run.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const TOKEN_FILE = 'tmp/admin-token';

/**
 * Development only: where ADMIN_TOKEN is unset, the token in ./tmp/admin-token (made the first
 * time, readable by its owner only) becomes ADMIN_TOKEN. Returns what the banner says of it.
 */
export function ensureAdminToken(root, env) {
  if (env.ADMIN_TOKEN) return { source: 'env' };
  const file = path.join(root, TOKEN_FILE);
  let made = false;
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    made = true;
  }
  env.ADMIN_TOKEN = readFileSync(file, 'utf8').trim();
  return { source: 'file', made, value: env.ADMIN_TOKEN };
}

/**
 * Polls /readyz until it answers 200 (true), or `gaveUp()` says the process is going away
 * (false). After a minute it returns true anyway: the banner then shows what /readyz says.
 */
export async function waitForReady(adminListen, gaveUp) {
  const deadline = Date.now() + 60_000;
  while (!gaveUp()) {
    try {
      const res = await fetch(`http://${adminListen}/readyz`, { signal: AbortSignal.timeout(3_000) });
      if (res.ok || Date.now() > deadline) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** `host:port` → what a client connects to (a wildcard address means this machine). */
function reachable(listen) {
  return listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

export function printBanner({ listen, token, stores, development }) {
  const api = `http://${reachable(listen.ADMIN_LISTEN)}`;
  const tokenLine = !token
    ? 'ADMIN_TOKEN from the environment (production: tokens are made with POST /api/v1/tokens)'
    : token.source === 'env'
      ? 'ADMIN_TOKEN from the environment'
      : token.made
        ? `${token.value}  (made now and kept in ${TOKEN_FILE}; shown only this once)`
        : `in ${TOKEN_FILE}`;
  const lines = [
    '',
    `mta is ready${development ? ' (development)' : ''}`,
    `  API          ${api}/api/v1  (Authorization: Bearer <token>)`,
    `  API docs     ${api}/api/docs`,
    `  API token    ${tokenLine}`,
    `  SMTP         mx ${listen.MX_LISTEN}, submission ${listen.SUBMISSION_LISTEN} (STARTTLS) and ${listen.SUBMISSIONS_LISTEN} (TLS)`,
    `  PostgreSQL   ${stores.notes.postgres ?? 'DATABASE_URL default'}`,
    `  Redis        ${stores.notes.redis ?? 'REDIS_URL default'}`,
    '  Next: add a domain, then follow "First mail" in README.md:',
    `    curl -H "Authorization: Bearer $(cat ${TOKEN_FILE})" -H 'Content-Type: application/json' \\`,
    `      -d '{"name": "example.test"}' ${api}/api/v1/domains`,
    '',
  ];
  if (token?.source !== 'file') lines.splice(-4, 3, '  Next: follow "First mail" in README.md');
  process.stderr.write(`${lines.join('\n')}\n`);
}
