/**
 * The first phase of a graceful shutdown (SIGTERM), before Nest closes anything: the process
 * stops taking work while it still serves HTTP. From the moment it starts, `/readyz` answers 503
 * (`Readiness` is told), so Kubernetes takes the pod out of its Services; then every step the
 * modules registered runs, all at the same time (an SMTP service answers new connections with
 * 421 4.3.2 for its drain window and lets open transactions finish, a delivery worker finishes or
 * hands back its jobs, the queue manager stops its workers). Only then does `app.close()` run the
 * modules' shutdown hooks, which find little left to do.
 */
export interface DrainStep {
  name: string;
  /** Resolves when the step has drained; a rejection is reported, the others go on. */
  run(): Promise<void>;
}

export interface DrainFailure {
  name: string;
  error: string;
}

export class Drain {
  private readonly steps = new Map<string, DrainStep>();
  private running: Promise<DrainFailure[]> | null = null;
  private readonly listeners: (() => void)[] = [];

  /** Whether draining has begun (it never ends: the process exits after it). */
  get draining(): boolean {
    return this.running !== null;
  }

  register(step: DrainStep): void {
    this.steps.set(step.name, step);
  }

  /** Called once when draining begins, before any step runs (readiness uses it). */
  onStart(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Runs every step at once; resolves with the steps that failed. Idempotent. */
  run(): Promise<DrainFailure[]> {
    if (this.running) return this.running;
    for (const listener of this.listeners) listener();
    this.running = Promise.all(
      [...this.steps.values()].map(async ({ name, run }): Promise<DrainFailure | null> => {
        try {
          await run();
          return null;
        } catch (error) {
          return { name, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    ).then((results) => results.filter((r): r is DrainFailure => r !== null));
    return this.running;
  }
}
