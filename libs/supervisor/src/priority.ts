import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Lowers the CPU priority of a running child of the supervisor to niceness `nice`
 * (1-19), so that under contention the other children run first. Linux keeps a niceness per
 * thread: the main thread is set first, so every thread it starts from then on inherits it,
 * then each thread the process already has. Where the kernel groups processes by session
 * (`sched_autogroup`, sched(7)), niceness only orders threads within one group and a child
 * started `detached` is a session of its own, so the group's niceness is set too. Elsewhere,
 * the process's. Returns what could not be done (an unprivileged process may lower a priority,
 * never raise it back), for the supervisor's log; the child runs either way.
 */
export function lowerPriority(pid: number, nice: number): string[] {
  const problems: string[] = [];
  const attempt = (what: string, action: () => void) => {
    try {
      action();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  attempt('setpriority', () => os.setPriority(pid, nice));
  if (process.platform !== 'linux') return problems;
  let threads: string[] = [];
  attempt('threads', () => (threads = readdirSync(`/proc/${pid}/task`)));
  for (const tid of threads) {
    if (Number(tid) !== pid) attempt(`thread ${tid}`, () => os.setPriority(Number(tid), nice));
  }
  if (autogroupEnabled()) attempt('autogroup', () => writeFileSync(`/proc/${pid}/autogroup`, String(nice)));
  return problems;
}

function autogroupEnabled(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}
