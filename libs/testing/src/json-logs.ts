import { appendFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * The JSON log lines a service under test writes to `stdout`, parsed as they come (lines that
 * are not JSON are skipped). With `E2E_LOG_DIR` set, every line is also appended to
 * `<dir>/<name>.log`, to read after a failed run.
 */
export function collectJsonLogs(stdout: Readable | null, name: string): Record<string, unknown>[] {
  const logs: Record<string, unknown>[] = [];
  let buffered = '';
  stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    const dir = process.env['E2E_LOG_DIR'];
    if (dir) appendFileSync(path.join(dir, `${name}.log`), lines.join('\n') + '\n');
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  return logs;
}
