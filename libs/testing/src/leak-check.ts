/**
 * Leak check (cf. maddy's remote_test.go connection-leak check): the kinds of libuv
 * handles that would keep the process alive. Counted before a test's client work and
 * again after close; everything the client opened must be gone.
 */
import { sleep } from './peer-process';

const WATCHED = ['TCPSocketWrap', 'TLSWrap', 'Timeout'] as const;
export type ResourceCounts = Record<(typeof WATCHED)[number], number>;

export function resourceCounts(): ResourceCounts {
  const counts: ResourceCounts = { TCPSocketWrap: 0, TLSWrap: 0, Timeout: 0 };
  for (const kind of process.getActiveResourcesInfo())
    if ((WATCHED as readonly string[]).includes(kind)) counts[kind as keyof ResourceCounts]++;
  return counts;
}

/**
 * Waits (briefly: in-process servers close their end asynchronously) until no watched
 * handle exceeds `baseline`; throws with the counts otherwise.
 */
export async function expectNoLeaks(baseline: ResourceCounts, waitMs = 2_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  let now = resourceCounts();
  while (WATCHED.some((k) => now[k] > baseline[k]) && Date.now() < deadline) {
    await sleep(20);
    now = resourceCounts();
  }
  const leaked = WATCHED.filter((k) => now[k] > baseline[k]);
  if (leaked.length > 0) {
    throw new Error(`leaked handles: ${leaked.map((k) => `${k} ${baseline[k]} → ${now[k]}`).join(', ')}`);
  }
}
