/**
 * Whether a test peer (a program nobody here wrote: smtp-sink, Postfix, Dovecot, dnsmasq, swaks,
 * python3 and its dkim module) is there, for `describe.skipIf(!requirePeer(...))`. On a
 * developer's machine a missing peer skips the suites that need it. Under `CI=true` it is a
 * failure instead: CI installs its peers (.ci/run), so a skip there would hide a broken install.
 */
export function requirePeer(name: string, available: boolean): boolean {
  if (!available && process.env['CI'] === 'true')
    throw new Error(
      `${name} is required under CI=true: install it (see .ci/run) instead of skipping its tests`,
    );
  return available;
}
