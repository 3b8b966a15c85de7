import { verifyPassword } from '@mta/auth';
import type { PrismaClient } from '@mta/db';

/** What submission needs to know about an account. */
export interface AccountDirectory {
  /** True when `address` is an enabled account and `password` is its password. */
  verify(address: string, password: string): Promise<boolean>;
  /** True when the account `login` may use `address` as envelope sender or header From. */
  maySendAs(login: string, address: string): Promise<boolean>;
}

/** A hash of a random password: verifying against it costs the same as against a real one. */
const DUMMY_HASH = '$scrypt$ln=16,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export class PrismaAccountDirectory implements AccountDirectory {
  constructor(private readonly db: PrismaClient) {}

  async verify(address: string, password: string): Promise<boolean> {
    const account = await this.db.account.findFirst({
      where: { address: address.toLowerCase(), disabled: false },
      select: { passwordHash: true },
    });
    // Unknown accounts take as long as known ones, so timing does not reveal which exist.
    const ok = await verifyPassword(password, account?.passwordHash ?? DUMMY_HASH).catch(() => false);
    return account !== null && ok;
  }

  /**
   * The login's own address, an address granted in its send-as list, or any address of a domain
   * granted whole (`@example.org`). Our mailboxes are stored in lower case and matched so (RFC
   * 5321 §2.4: the case of a local part is ours to decide); domains are case-insensitive always.
   */
  async maySendAs(login: string, address: string): Promise<boolean> {
    const wanted = address.toLowerCase();
    if (wanted === login.toLowerCase()) return true;
    const at = wanted.lastIndexOf('@');
    const grants = at > 0 ? [wanted, wanted.slice(at)] : [wanted];
    const count = await this.db.accountSendAs.count({
      where: { address: { in: grants }, account: { address: login.toLowerCase(), disabled: false } },
    });
    return count > 0;
  }
}
