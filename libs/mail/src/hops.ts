/**
 * Loop detection by counting trace fields. RFC 5321 §6.3: "Simple counting of the number of
 * Received: header fields in a message has proven to be an effective, although rarely optimal,
 * method of detecting loops"; servers using it SHOULD use a large threshold, normally at least
 * 100. Postfix uses 50 (hopcount_limit); we default to 100, as the RFC suggests.
 */
import { TooManyHopsError } from './errors';
import type { HeaderBlock } from './header-block';

export const DEFAULT_MAX_HOPS = 100;

/**
 * Throws `TooManyHopsError` (554 5.4.6) when the message carries more than `maxHops` Received
 * fields. Call it from `prependHeaders`' `prepend` or after `HeaderSplitStream`'s `header`.
 */
export function checkHops(header: HeaderBlock, maxHops: number = DEFAULT_MAX_HOPS): void {
  const hops = header.receivedCount;
  if (hops > maxHops) throw new TooManyHopsError(hops, maxHops);
}
