/** Test support: a key record split into 255-octet character-strings (RFC 1035 §3.3.14). */
export function txtStrings(record: string): string[] {
  return record.match(/.{1,255}/g) ?? [''];
}
