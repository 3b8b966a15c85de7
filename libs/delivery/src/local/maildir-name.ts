/**
 * Maildir names and paths (D. J. Bernstein, "Using maildir format", cr.yp.to/proto/maildir.html;
 * Courier's maildir(5)). A file is written under `tmp/` with a unique name, then renamed into
 * `new/`; the unique name is `<seconds>.M<microseconds>P<pid>Q<counter>.<host>`, with `/` and
 * `:` in the host name written as `\057` and `\072`, as Dovecot and Courier do.
 */
import os from 'node:os';
import path from 'node:path';

let counter = 0;

export function uniqueName(): string {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  const micros = Math.min(999_999, Math.floor((ms - seconds * 1000) * 1000));
  const host = os.hostname().replace(/\//g, '\\057').replace(/:/g, '\\072');
  return `${seconds}.M${micros}P${process.pid}Q${++counter}.${host}`;
}

/**
 * `<root>/<domain>/<localpart>/Maildir` for a recipient, or an error text. Both parts are
 * folded to lower case (Postfix local(8) folds the recipient too), and anything that could
 * leave the tree or hide a file is refused: `/`, `\`, NUL and control characters, `.` and
 * `..`, a leading dot.
 */
export function maildirOf(root: string, address: string): { dir: string } | { error: string } {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return { error: `"${address}" is not a mailbox address` };
  const local = address.slice(0, at).toLowerCase();
  const domain = address.slice(at + 1).toLowerCase();
  for (const part of [local, domain]) {
    // eslint-disable-next-line no-control-regex
    if (/[/\\\x00-\x1f\x7f]/.test(part) || part.startsWith('.') || part.length > 255) {
      return { error: `"${address}" cannot be used as a mailbox name` };
    }
  }
  return { dir: path.join(root, domain, local, 'Maildir') };
}
