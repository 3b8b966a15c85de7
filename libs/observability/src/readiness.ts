/** Something the service needs before it can do its work: a database, Redis, a listener. */
export interface ReadinessCheck {
  name: string;
  /** Resolves when ready; rejects (or times out) when not. */
  check(): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/** Collects the checks the modules register and runs them together, each with a time limit. */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  constructor(private readonly timeoutMs = 2000) {}

  register(check: ReadinessCheck): void {
    this.checks.set(check.name, check);
  }

  /**
   * The process is shutting down (drain.ts): not ready from now on, whatever the checks say, so
   * that Kubernetes removes the pod from its Services' endpoints while it drains.
   */
  markDraining(): void {
    this.draining = true;
  }

  async report(): Promise<ReadinessReport> {
    if (this.draining) return { ready: false, checks: { draining: { ok: false, error: 'shutting down' } } };
    const entries = await Promise.all(
      [...this.checks.values()].map(async ({ name, check }) => {
        try {
          await withTimeout(check(), this.timeoutMs, `${name} did not answer within ${this.timeoutMs} ms`);
          return [name, { ok: true }] as const;
        } catch (error) {
          return [
            name,
            { ok: false, error: error instanceof Error ? error.message : String(error) },
          ] as const;
        }
      }),
    );
    return { ready: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
  }
}

/** `promise`, or a rejection with `message` once `ms` have passed. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
