/**
 * DKIM signers and verifiers nobody here wrote, for the signing tests: Debian's python3-dkim
 * (`dkimsign`, and the library under `dkimverify`) and OpenDKIM's `opendkim-testmsg`. The key
 * records they read are given as a map `selector._domainkey.domain` -> TXT data:
 * - python3-dkim through `dkim.verify(..., dnsfunc=...)` (its command line has no option for a
 *   DNS server);
 * - opendkim-testmsg only asks the system resolver, so it runs in its own network and mount
 *   namespace (`unshare`) with dnsmasq on that namespace's 127.0.0.1:53 serving the
 *   records and a resolv.conf pointing there: the host's DNS is untouched.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasBinary } from './peer-process';

export const PYTHON3 = '/usr/bin/python3';
export const OPENDKIM_TESTMSG = '/usr/sbin/opendkim-testmsg';

export interface TestDkimKey {
  domain: string;
  selector: string;
  algorithm: 'rsa' | 'ed25519';
  /** PKCS#8 PEM, as the admin API stores it */
  privateKey: string;
  /** the `p=` value */
  publicKey: string;
  /** the TXT data to publish */
  record: string;
  /** python3-dkim's form of the private key: RSA as PKCS#1 PEM, Ed25519 as the base64 seed */
  peerKey: string;
}

/** A fresh DKIM key pair (RSA-2048 or Ed25519) in every form the tests need. */
export function testDkimKey(algorithm: 'rsa' | 'ed25519', domain: string, selector: string): TestDkimKey {
  if (algorithm === 'rsa') {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    return {
      domain,
      selector,
      algorithm,
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: p,
      record: `v=DKIM1; k=rsa; p=${p}`,
      peerKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const p = spki.subarray(spki.length - 32).toString('base64');
  return {
    domain,
    selector,
    algorithm,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: p,
    record: `v=DKIM1; k=ed25519; p=${p}`,
    peerKey: pkcs8.subarray(pkcs8.length - 32).toString('base64'),
  };
}

/** The records of `keys` as the map the verifiers below read. */
export const dkimRecords = (...keys: TestDkimKey[]): Record<string, string> =>
  Object.fromEntries(keys.map((k) => [`${k.selector}._domainkey.${k.domain}`, k.record]));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], input?: Buffer): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { encoding: 'buffer', timeout: 60_000, maxBuffer: 128 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ status, stdout: stdout.toString('latin1'), stderr: stderr.toString() });
      },
    );
    // A peer that exits before reading all of its input (a failed verification) is no error here.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? Buffer.alloc(0));
  });
}

const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));

/** Whether python3-dkim (with PyNaCl for Ed25519) can be imported. */
export async function havePythonDkim(): Promise<boolean> {
  if (!hasBinary(PYTHON3)) return false;
  return (await run(PYTHON3, ['-c', 'import dkim, nacl'])).status === 0;
}

const VERIFY_PY = `
import json, sys, dkim, dkim.util
records = json.load(open(sys.argv[1]))
message = sys.stdin.buffer.read()
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    value = records.get(name.rstrip('.').lower())
    return value.encode() if value is not None else None
d = dkim.DKIM(message)
sigs = [v for k, v in d.headers if k.lower() == b'dkim-signature']
out = []
for idx, sig in enumerate(sigs):
    tags = dkim.util.parse_tag_value(sig)
    try:
        ok = d.verify(idx=idx, dnsfunc=dnsfunc)
    except Exception as e:
        ok = False
    out.append({'domain': tags.get(b'd', b'').decode(), 'selector': tags.get(b's', b'').decode(),
                'algorithm': tags.get(b'a', b'').decode(), 'headers': tags.get(b'h', b'').decode(), 'ok': bool(ok)})
print(json.dumps(out))
`;

export interface PeerVerdict {
  domain: string;
  selector: string;
  algorithm: string;
  /** the `h=` tag as written */
  headers: string;
  ok: boolean;
}

/** python3-dkim's verdict on every DKIM-Signature of `message`, top to bottom. */
export async function pythonDkimVerify(
  message: Buffer,
  records: Record<string, string>,
): Promise<PeerVerdict[]> {
  const dir = tmp('dkimverify-');
  writeFileSync(path.join(dir, 'records.json'), JSON.stringify(records));
  writeFileSync(path.join(dir, 'verify.py'), VERIFY_PY);
  const done = await run(PYTHON3, [path.join(dir, 'verify.py'), path.join(dir, 'records.json')], message);
  if (done.status !== 0) throw new Error(`python3-dkim failed: ${done.stderr}`);
  return JSON.parse(done.stdout) as PeerVerdict[];
}

export const DKIMSIGN = '/usr/bin/dkimsign';

/** The message signed by Debian's `dkimsign` (python3-dkim), relaxed/relaxed. */
export async function pythonDkimSign(message: Buffer, key: TestDkimKey): Promise<Buffer> {
  const dir = tmp('dkimsign-');
  writeFileSync(path.join(dir, 'key'), key.peerKey, { mode: 0o600 });
  const signalg = key.algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256';
  const done = await run(
    DKIMSIGN,
    [
      '--hcanon',
      'relaxed',
      '--bcanon',
      'relaxed',
      '--signalg',
      signalg,
      key.selector,
      key.domain,
      path.join(dir, 'key'),
    ],
    message,
  );
  if (done.status !== 0) throw new Error(`dkimsign failed: ${done.stderr}`);
  return Buffer.from(done.stdout, 'latin1');
}

/**
 * How to get a network and mount namespace of our own: `unshare -mn` as root, else a user
 * namespace too (`-rmn`, where the kernel allows unprivileged ones); null when neither works.
 */
async function namespaceFlags(): Promise<string | null> {
  for (const flags of process.getuid?.() === 0 ? ['-mn', '-rmn'] : ['-rmn']) {
    if ((await run('unshare', [flags, 'true'])).status === 0) return flags;
  }
  return null;
}

/** Whether opendkim-testmsg can run with its own DNS: the binary, dnsmasq and a namespace. */
export async function haveOpendkimTestmsg(): Promise<boolean> {
  if (!hasBinary(OPENDKIM_TESTMSG) || !hasBinary('/usr/sbin/dnsmasq')) return false;
  return (await namespaceFlags()) !== null;
}

/** `opendkim-testmsg` signing `message` (RSA PEM key): the signed message (CRLF lines). */
export async function opendkimSign(
  message: Buffer,
  key: { domain: string; selector: string; privateKey: string },
): Promise<Buffer> {
  const dir = tmp('opendkim-');
  writeFileSync(path.join(dir, 'key.pem'), key.privateKey, { mode: 0o600 });
  const done = await run(
    OPENDKIM_TESTMSG,
    ['-C', '-d', key.domain, '-s', key.selector, '-k', path.join(dir, 'key.pem')],
    message,
  );
  if (done.status !== 0) throw new Error(`opendkim-testmsg sign failed: ${done.stderr}`);
  return Buffer.from(done.stdout, 'latin1');
}

/**
 * `opendkim-testmsg` verifying `message` against `records`: status 0 and no output when every
 * signature is good (opendkim checks each and fails on a bad one).
 */
export async function opendkimVerify(message: Buffer, records: Record<string, string>): Promise<Ran> {
  const dir = tmp('opendkim-');
  writeFileSync(path.join(dir, 'message.eml'), message);
  writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  // dnsmasq: one --txt-record per name, the data cut into character-strings of <= 255 bytes.
  const txt = Object.entries(records).map(([name, value]) => {
    const parts = value.match(/.{1,255}/g) ?? [''];
    return `--txt-record=${name},${parts.join(',')}`;
  });
  const script = [
    'set -e',
    'ip link set lo up',
    `mount --bind ${dir}/resolv.conf /etc/resolv.conf`,
    `dnsmasq --user=root --no-resolv --no-hosts --no-daemon --port=53 --listen-address=127.0.0.1 --bind-interfaces ${txt
      .map((t) => `'${t}'`)
      .join(' ')} 2>/dev/null &`,
    'DNSMASQ=$!',
    // dnsmasq answers once it has bound: wait for port 53 (no nc needed: bash's /dev/udp is not a probe)
    'for i in $(seq 1 100); do ss -lun 2>/dev/null | grep -q "127.0.0.1:53 " && break; sleep 0.05; done',
    `set +e; ${OPENDKIM_TESTMSG} < ${dir}/message.eml; STATUS=$?`,
    'kill $DNSMASQ',
    'exit $STATUS',
  ].join('\n');
  const flags = await namespaceFlags();
  if (flags === null) throw new Error('opendkim-testmsg needs a network namespace (unshare)');
  return run('unshare', [flags, 'bash', '-c', script]);
}
