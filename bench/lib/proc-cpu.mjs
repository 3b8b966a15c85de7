// CPU time and memory of processes and of the machine, from /proc (Linux).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

const pids = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d));

/** utime + stime of one process, in seconds; 0 if it is gone. */
export function cpuSeconds(pid) {
  try {
    const f = statFields(pid);
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + f[4];
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/**
 * CPU seconds of a process tree one level deep: the parent (own time plus its reaped
 * children, where exited children are accounted) and every live child of it. This is how a
 * Postfix instance is measured: its master, smtpd/cleanup/qmgr/smtp... alive or exited.
 */
export function familyCpuSeconds(parentPid) {
  if (!parentPid) return 0;
  let total = 0;
  try {
    const f = statFields(parentPid);
    total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
  } catch {
    return 0;
  }
  for (const d of pids()) {
    try {
      const f = statFields(d);
      if (Number(f[1]) === parentPid) total += (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      /* exited */
    }
  }
  return total;
}

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM...) in kB; 0 if the process is gone. */
export function statusKb(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds of the children that `pid` has waited for (cutime + cstime): e.g. a load generator that ran to completion. */
export function reapedChildrenCpuSeconds(pid) {
  try {
    const f = statFields(pid);
    return (Number(f[13]) + Number(f[14])) / CLK_TCK;
  } catch {
    return 0;
  }
}

const commOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

/**
 * CPU seconds of every server whose comm starts with `name` (PostgreSQL, Redis): each topmost
 * such process with its live and reaped children (`familyCpuSeconds`), so that backends that
 * exited during a measurement still count and the sum never goes backwards.
 */
export function serverCpuSeconds(name) {
  let total = 0;
  for (const d of pids()) {
    try {
      if (!commOf(d).startsWith(name)) continue;
      if (commOf(Number(statFields(d)[1])).startsWith(name)) continue; // a child: counted with its parent
      total += familyCpuSeconds(Number(d));
    } catch {
      /* exited */
    }
  }
  return total;
}

/** utime + stime of each live process whose command line matches `re`, by pid. */
export function cpuByCmdline(re) {
  const out = new Map();
  for (const d of pids()) {
    try {
      if (re.test(readFileSync(`/proc/${d}/cmdline`, 'latin1').replaceAll('\0', ' ')))
        out.set(d, cpuSeconds(d));
    } catch {
      /* exited */
    }
  }
  return out;
}

/** CPU seconds between two `cpuByCmdline` snapshots (processes that appeared count whole; ones that exited are lost). */
export const cpuByCmdlineDelta = (before, after) =>
  [...after].reduce((sum, [pid, s]) => sum + s - (before.get(pid) ?? 0), 0);

/**
 * CPU seconds by command name (comm) of the live children of `parentPid()`, sampled every
 * `intervalMs` from start() to stop(): for each child, its CPU at the last sample minus its CPU
 * at the first (0 for one born after start()). A child that exits between two samples loses
 * what it used since the last one; the caller shows the rest of the family's time as
 * unattributed. This is how Postfix's time is split into smtpd, cleanup, qmgr, smtp...
 */
export function childCpuSampler(parentPid, intervalMs = 200) {
  const first = new Map();
  const last = new Map();
  const sample = (initial) => {
    const parent = parentPid();
    if (!parent) return;
    for (const d of pids()) {
      try {
        const f = statFields(d);
        if (Number(f[1]) !== parent) continue;
        const entry = { comm: commOf(d), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK };
        if (initial) first.set(d, entry.cpu);
        last.set(d, entry);
      } catch {
        /* exited */
      }
    }
  };
  sample(true);
  const timer = setInterval(() => sample(false), intervalMs);
  timer.unref();
  return {
    /** Stops sampling; resolves CPU seconds by comm over the sampled time. */
    stop() {
      clearInterval(timer);
      sample(false);
      const byComm = {};
      for (const [pid, { comm, cpu }] of last)
        byComm[comm] = (byComm[comm] ?? 0) + cpu - (first.get(pid) ?? 0);
      return byComm;
    },
  };
}
