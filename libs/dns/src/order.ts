/**
 * Ordering rules: RFC 5321 §5.1 (MX preference, random order among equals) and the address
 * family order a caller chooses.
 */

/** A random number in [0, 1), as `Math.random` returns; tests inject a fixed sequence. */
export type RandomSource = () => number;

/**
 * RFC 5321 §5.1: "the MX records MUST be sorted ... lowest numbers are most preferred", and
 * "if there are multiple destinations with the same preference ... the SMTP client SHOULD
 * randomize them to spread the load". Fisher-Yates within each group of equal preference.
 */
export function sortByPreference<T extends { preference: number }>(
  items: readonly T[],
  random: RandomSource,
): T[] {
  const sorted = [...items].sort((a, b) => a.preference - b.preference);
  let start = 0;
  while (start < sorted.length) {
    let end = start + 1;
    while (end < sorted.length && sorted[end].preference === sorted[start].preference) end++;
    for (let i = end - 1; i > start; i--) {
      const j = start + Math.floor(random() * (i - start + 1));
      [sorted[i], sorted[j]] = [sorted[j], sorted[i]];
    }
    start = end;
  }
  return sorted;
}

/**
 * Which address families to use, in which order:
 * - `interleave` (default): both, alternating IPv6, IPv4, IPv6, ... (RFC 8305 §4 style), so a
 *   host without IPv6 connectivity loses one quick connect error, not a whole family.
 * - `ipv6` / `ipv4`: both, all addresses of that family first (Postfix
 *   `smtp_address_preference = ipv6` / `ipv4`).
 * - `ipv6-only` / `ipv4-only`: one family; the other is not even looked up (Postfix
 *   `inet_protocols`).
 */
export type AddressPreference = 'interleave' | 'ipv6' | 'ipv4' | 'ipv6-only' | 'ipv4-only';

export interface MxAddress {
  address: string;
  family: 4 | 6;
}

export function wantsFamily(preference: AddressPreference, family: 4 | 6): boolean {
  return preference !== (family === 4 ? 'ipv6-only' : 'ipv4-only');
}

export function orderAddresses(
  v4: readonly string[],
  v6: readonly string[],
  preference: AddressPreference,
): MxAddress[] {
  const four = wantsFamily(preference, 4) ? v4.map((address) => ({ address, family: 4 as const })) : [];
  const six = wantsFamily(preference, 6) ? v6.map((address) => ({ address, family: 6 as const })) : [];
  if (preference === 'ipv4') return [...four, ...six];
  if (preference !== 'interleave') return [...six, ...four];
  const out: MxAddress[] = [];
  for (let i = 0; i < Math.max(four.length, six.length); i++) {
    if (i < six.length) out.push(six[i]);
    if (i < four.length) out.push(four[i]);
  }
  return out;
}
