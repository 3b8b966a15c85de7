/**
 * Calls `fn` at most once per `intervalMs`: for errors that repeat on every reconnect
 * attempt while a dependency is down, one log line per interval is enough.
 */
export function throttled<T>(
  intervalMs: number,
  fn: (value: T) => void,
  now: () => number = Date.now,
): (value: T) => void {
  let last = -Infinity;
  return (value) => {
    const t = now();
    if (t - last < intervalMs) return;
    last = t;
    fn(value);
  };
}
