/**
 * A message's header block: the fields as received, byte for byte, with case-insensitive lookup
 * (RFC 5322 §1.2.2: field names are case-insensitive) and readers for the fields the intake and
 * the queue look at.
 */
import { parseMailboxList, type Mailbox } from './address-list';
import { parseDate } from './date';
import { decodeEncodedWords } from './encoded-word';
import { parseHeaderFields, type HeaderField } from './header-fields';
import { parseMessageId } from './message-id';

export class HeaderBlock {
  private parsed: HeaderField[] | undefined;

  /**
   * @param raw the header field lines exactly as received (each with its CRLF)
   * @param separator the empty line that ended the block (`\r\n`), or empty when the message had
   *   none (no body, or a body that started without it)
   */
  constructor(
    readonly raw: Buffer,
    readonly separator: Buffer = Buffer.from('\r\n'),
  ) {}

  /**
   * A header block from its text: field lines, optionally followed by the empty line (tests,
   * headers stored apart from the body).
   */
  static from(text: string | Buffer): HeaderBlock {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    const ends = (tail: string): boolean => bytes.subarray(-tail.length).toString('latin1') === tail;
    const sep = ends('\r\n\r\n') || (bytes.length === 2 && ends('\r\n')) ? 2 : 0;
    return new HeaderBlock(bytes.subarray(0, bytes.length - sep), bytes.subarray(bytes.length - sep));
  }

  /** Every field in order. */
  get fields(): readonly HeaderField[] {
    return (this.parsed ??= parseHeaderFields(this.raw));
  }

  /** Octets of the block including the separator: where the body starts. */
  get size(): number {
    return this.raw.length + this.separator.length;
  }

  /** The block as it goes on the wire: `raw` + `separator`. */
  toBuffer(): Buffer {
    return Buffer.concat([this.raw, this.separator]);
  }

  /** The fields with this name (any case), in order. */
  getFields(name: string): HeaderField[] {
    const key = name.toLowerCase();
    return this.fields.filter((f) => f.key === key);
  }

  /** The first value of this field (unfolded), or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    return this.fields.find((f) => f.key === key)?.value;
  }

  /** Every value of this field, in order. */
  getAll(name: string): string[] {
    return this.getFields(name).map((f) => f.value);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** How many fields have this name. */
  count(name: string): number {
    return this.getFields(name).length;
  }

  /** The number of `Received:` fields: the hop count for loop detection (RFC 5321 §6.3). */
  get receivedCount(): number {
    return this.count('received');
  }

  /** The `Message-ID` as `<id-left@id-right>`, or undefined when absent or not valid (RFC 5322 §3.6.4). */
  get messageId(): string | undefined {
    const v = this.get('message-id');
    return v === undefined ? undefined : parseMessageId(v);
  }

  /** The `Date` field as a `Date`, or undefined when absent or unparseable (RFC 5322 §3.3). */
  get date(): Date | undefined {
    const v = this.get('date');
    return v === undefined ? undefined : parseDate(v);
  }

  /** The mailboxes of the first `From` field (RFC 5322 §3.6.2), domains lower-cased. */
  get from(): Mailbox[] {
    const v = this.get('from');
    return v === undefined ? [] : parseMailboxList(v);
  }

  /** The `Subject`, RFC 2047 encoded-words decoded. */
  get subject(): string | undefined {
    const v = this.get('subject');
    return v === undefined ? undefined : decodeEncodedWords(v);
  }
}
