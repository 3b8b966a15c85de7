/**
 * ARC peers beside the DKIM ones (dkim-peers.ts): Debian's python3-dkim (dkimpy) `arcsign`
 * seals (needs python3-authres) and `arc_verify` validates a chain (RFC 8617 §5.2), so that what
 * our verifier accepts and what our sealer makes are checked by code nobody here wrote.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestDkimKey } from './dkim-peers';

function python(args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      args,
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(stdout)),
    );
    child.stdin?.end(input);
  });
}

/** `message` ARC-sealed by dkimpy's `arcsign` as `srvId` (its Authentication-Results on top). */
export async function pythonArcSign(message: Buffer, key: TestDkimKey, srvId: string): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'arcsign-'));
  try {
    writeFileSync(path.join(dir, 'key'), key.peerKey, { mode: 0o600 });
    return await python(
      ['/usr/bin/arcsign', key.selector, key.domain, path.join(dir, 'key'), srvId],
      message,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ARC_VERIFY_PY = `
import json, sys, dkim
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    value = records.get(name.rstrip('.').lower())
    return value.encode() if value is not None else None
cv, results, comment = dkim.arc_verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc)
print(json.dumps({'cv': cv.decode(), 'instances': len(results), 'comment': comment}))
`;

/** dkimpy's ARC chain validation (RFC 8617 §5.2) with `records` (name -> TXT) as its DNS. */
export async function pythonArcVerify(
  message: Buffer,
  records: Record<string, string>,
): Promise<{ cv: string; instances: number; comment: string }> {
  return JSON.parse((await python(['-c', ARC_VERIFY_PY, JSON.stringify(records)], message)).toString());
}
