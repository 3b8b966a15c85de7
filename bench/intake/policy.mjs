// The `--policy` side of bench/intake: a DKIM-signed message template, the DNS records of its
// sender domain (SPF, DKIM key, DMARC p=reject) on a loopback dnsmasq, the environment that
// turns every inbound check of mx on, and the greylisting primer. See bench/README.md.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from '../lib/cleanup.mjs';
import { startDnsmasq } from '../lib/dnsmasq.mjs';
import { requireRoot } from '../lib/paths.mjs';

export const SENDER_DOMAIN = 'remote.example';
export const HELO = 'client.remote.example';
const SELECTOR = 'bench';
const DNSBL_ZONE = 'dnsbl.bench.example';
const DNSWL_ZONE = 'dnswl.bench.example';

/**
 * The message every session sends (smtp-source -F and the latency client alike): `size` bytes
 * of header and body like smtp-source's own, signed once here with an RSA-2048 key of
 * `remote.example` (relaxed/relaxed, mailauth's signer), so the hot loop only sends bytes.
 * Returns the CRLF bytes (for our client) and an LF file (smtp-source -F adds the CRs).
 */
export async function signedTemplate({ size, sender, rcpt }) {
  const { dkimSign } = requireRoot('mailauth');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const head =
    `From: <${sender}>\r\nTo: <${rcpt}>\r\nSubject: policy benchmark\r\n` +
    `Message-ID: <bench.${process.pid}@${SENDER_DOMAIN}>\r\nDate: ${new Date().toUTCString()}\r\n\r\n`;
  let body = '';
  while (head.length + body.length + 80 <= size) body += `${'X'.repeat(78)}\r\n`;
  body += `${'X'.repeat(Math.max(0, size - head.length - body.length - 2))}\r\n`;
  const unsigned = Buffer.from(head + body);
  const { signatures, errors } = await dkimSign(unsigned, {
    canonicalization: 'relaxed/relaxed',
    signatureData: [
      {
        signingDomain: SENDER_DOMAIN,
        selector: SELECTOR,
        privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }),
        algorithm: 'rsa-sha256',
      },
    ],
  });
  if (errors.length) throw new Error(`DKIM signing failed: ${errors[0].err?.message ?? errors[0]}`);
  const message = Buffer.concat([Buffer.from(signatures), unsigned]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-policy-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'message.txt');
  fs.writeFileSync(file, message.toString('latin1').replace(/\r\n/g, '\n'));
  const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  return { message, file, dkimRecord: `v=DKIM1; k=rsa; p=${spki}` };
}

/**
 * dnsmasq's --txt-record takes several character-strings separated by commas (255 octets each;
 * on the command line quotes would be kept as part of the text, so none, and no commas inside).
 */
function txtRecord(name, text) {
  const parts = [];
  for (let at = 0; at < text.length; at += 255) parts.push(text.slice(at, at + 255));
  return `--txt-record=${name},${parts.join(',')}`;
}

/**
 * dnsmasq on loopback answering for `*.example` only (anything else: NXDOMAIN, never forwarded):
 * SPF of the MAIL FROM and HELO domains (pass for 127.0.0.1), the DKIM key, DMARC p=reject;
 * the DNSBL and DNSWL zones hold nothing, so 127.0.0.1 is listed in neither and every check runs.
 * 127.0.0.1's PTR and the A record back (mx's forward-confirmed client name, at connect).
 */
export function startPolicyDns(dkimRecord) {
  return startDnsmasq(
    [
      txtRecord(SENDER_DOMAIN, 'v=spf1 ip4:127.0.0.1 -all'),
      txtRecord(HELO, 'v=spf1 ip4:127.0.0.1 -all'),
      txtRecord(`${SELECTOR}._domainkey.${SENDER_DOMAIN}`, dkimRecord),
      txtRecord(`_dmarc.${SENDER_DOMAIN}`, 'v=DMARC1; p=reject'),
      `--host-record=${HELO},127.0.0.1`,
    ],
    { localDomain: 'example' },
  );
}

/**
 * Every inbound check of mx on (the variables of libs/config), asking `dns`. `parts`: `all`;
 * `inbound` for SPF/DKIM/ARC/DMARC only (no policy-service questions); `service` for the
 * policy-service questions only (DNSBL/DNSWL, greylisting, rate limits): to split the cost.
 */
export function policyEnv(dns, parts = 'all') {
  const inbound = parts !== 'service';
  const service = parts !== 'inbound';
  return {
    DNS_SERVERS: `${dns.host}:${dns.port}`,
    POLICY_INBOUND_CHECKS: String(inbound),
    ...(service
      ? {
          DNSBL_ZONES: DNSBL_ZONE,
          DNSWL_ZONES: DNSWL_ZONE,
          GREYLISTING: 'true',
          GREYLIST_DELAY_S: '1',
          // counted on every connection, MAIL and RCPT, never reached
          MX_RATE_CONNECTIONS_PER_MIN: '1000000',
          MX_RATE_MESSAGES_PER_MIN: '1000000',
          MX_RATE_RECIPIENTS_PER_MIN: '1000000',
        }
      : {}),
  };
}

/** The same mx with every check off (same DNS, for its client name lookup), for the CPU the checks add. */
export const plainEnv = (dns) => ({
  DNS_SERVERS: `${dns.host}:${dns.port}`,
  POLICY_INBOUND_CHECKS: 'false',
  MTA_HOSTNAME: 'plain.bench.example',
});

/**
 * Greylisting answers the first try of a (client /24, sender, recipient) triplet with 451; the
 * benchmark's one triplet is passed once before the warm-up (a retry after GREYLIST_DELAY_S=1;
 * with 0 the first try passes, so 1 shows that greylisting is on). Resolves with the two RCPT
 * replies.
 */
export function primeGreylist(port, sender, rcpt) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const script = [
      `EHLO ${HELO}`,
      `MAIL FROM:<${sender}>`,
      `RCPT TO:<${rcpt}>`,
      'RSET',
      `MAIL FROM:<${sender}>`,
      `RCPT TO:<${rcpt}>`,
      'QUIT',
    ];
    const replies = [];
    let buffer = '';
    socket.on('data', (d) => {
      buffer += d.toString('latin1');
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (line[3] === '-') continue;
        replies.push(line);
        const next = script.shift();
        // after the RSET: wait out GREYLIST_DELAY_S before the retry
        const wait = next?.startsWith('MAIL') && replies.length > 3 ? 1100 : 0;
        if (next) setTimeout(() => socket.write(`${next}\r\n`), wait);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const rcpts = replies.filter((_, i) => i === 3 || i === 6);
      if (!rcpts[1]?.startsWith('250')) reject(new Error(`greylisting primer: ${replies.join(' | ')}`));
      else resolve(rcpts);
    });
  });
}

/**
 * The Authentication-Results field (unfolded) of the newest message stored with a verdict
 * (`messages.auth_results`: only the mx with the checks writes one), or null: the proof that
 * the checks ran, printed with the results.
 */
export async function storedAuthenticationResults(withDatabase, dbName) {
  return withDatabase(dbName, async (client) => {
    const { rows } = await client.query(
      `select m.client_hostname, c.data from messages m
         join message_chunks c on c.message_id = m.id and c.seq = 0
        where m.auth_results is not null order by m.received_at desc limit 1`,
    );
    if (rows.length === 0) return null;
    const head = rows[0].data
      .toString('latin1')
      .split('\r\n\r\n')[0]
      .replace(/\r\n[ \t]+/g, ' ');
    const field = head.split('\r\n').find((line) => /^Authentication-Results:/i.test(line)) ?? '(none)';
    return `${field} [client name ${rows[0].client_hostname ?? 'none'}]`;
  });
}
