/**
 * Maildir permissions (MAILDIR_FILE_MODE, MAILDIR_DIR_MODE) and owner (MAILDIR_OWNER), so that an
 * IMAP server running as another user in the same group (Dovecot as `vmail` or `dovecot`) can
 * read the messages, move them from new/ to cur/ and keep its index files beside them.
 */

/** `0660` or `660`: an octal mode of at most 4 digits. */
function octal(value: string): number | null {
  return /^0?[0-7]{3,4}$/.test(value) ? parseInt(value, 8) : null;
}

/** A message file's mode: the owner must read and write it; no setuid, setgid or sticky bit. */
export function parseFileMode(value: string): number | string {
  const mode = octal(value);
  if (mode === null || mode > 0o777) return 'expected an octal file mode from 0600 to 0777, e.g. 0660';
  if ((mode & 0o600) !== 0o600) return 'the owner must be able to read and write (0600 at least)';
  return mode;
}

/** A directory's mode: the owner needs rwx; setgid (2000) keeps the group on what is created inside. */
export function parseDirMode(value: string): number | string {
  const mode = octal(value);
  if (mode === null || mode > 0o7777) return 'expected an octal directory mode, e.g. 2770';
  if ((mode & 0o700) !== 0o700) return 'the owner must be able to read, write and enter (0700 at least)';
  return mode;
}

export interface MaildirOwner {
  readonly uid?: number;
  readonly gid?: number;
}

/** `uid:gid`, `uid` or `:gid`, numeric (the container may not know the names). */
export function parseOwner(value: string): MaildirOwner | string {
  const m = /^(\d{1,10})?(?::(\d{1,10}))?$/.exec(value);
  if (!m || (m[1] === undefined && m[2] === undefined))
    return 'expected numeric uid:gid, uid or :gid, e.g. 5000:5000';
  const uid = m[1] === undefined ? undefined : Number(m[1]);
  const gid = m[2] === undefined ? undefined : Number(m[2]);
  if ((uid ?? 0) > 2 ** 32 - 2 || (gid ?? 0) > 2 ** 32 - 2) return 'uid and gid must be below 4294967295';
  return { ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) };
}
