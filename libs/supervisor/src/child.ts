import { spawn, type ChildProcess } from 'node:child_process';
import { BACKOFF_DEFAULTS, restartDelay, type BackoffOptions } from './backoff';
import type { SupervisorLog } from './log';
import { lowerPriority } from './priority';
import { isMetricsReply, type MetricFamily, type MetricsRequest } from './metrics';

/** One process the supervisor runs: a service's entry point and its environment. */
export interface ChildSpec {
  /** Unique; names the child in logs and in `/readyz` (`mx`, `delivery-2`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /**
   * The variable that tells the child where to serve HTTP (`HEALTH_LISTEN`, `ADMIN_LISTEN`): set to
   * `127.0.0.1:0`, a port the kernel picks when the child listens (no port picked here that
   * someone else could take first); the child says which over IPC (`ListeningMessage`), and its
   * `/readyz` is asked there.
   */
  readonly httpListenVariable: string;
  /**
   * Run at this niceness (1-19, `lowerPriority`): a background child (delivery, the queue
   * manager) that should yield the CPU to the ones answering clients. Unset or 0: as the supervisor.
   */
  readonly nice?: number;
}

/** What a child sends over its IPC channel once its HTTP server listens (runService in libs/runtime). */
export interface ListeningMessage {
  type: 'listening';
  httpPort: number;
}

const isListening = (m: unknown): m is ListeningMessage =>
  typeof m === 'object' && m !== null && (m as Partial<ListeningMessage>).type === 'listening' &&
  Number.isInteger((m as Partial<ListeningMessage>).httpPort);

export type ChildStatus = { ok: true } | { ok: false; error: string };

/**
 * A child process kept running: started again with a backoff when it dies (one log line says
 * how it ended and when it comes back), until `stop`.
 */
export class Child {
  private process?: ChildProcess;
  private port?: number;
  private exited: Promise<void> = Promise.resolve();
  private failures = 0;
  private startedAt = 0;
  private restartTimer?: NodeJS.Timeout;
  private stopping = false;
  private lastExit = 'not started yet';
  /** Every exit since `stop` began was exit code 0. */
  private clean = true;
  private lastRequest = 0;
  /** How often it was started again after it died. */
  restarts = 0;
  /** How many times it was asked for its metrics while it served and did not answer in time. */
  scrapeErrors = 0;

  constructor(
    readonly spec: ChildSpec,
    private readonly log: SupervisorLog,
    private readonly backoff: BackoffOptions = {},
  ) {}

  /** Its pid while it runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** The private port of its HTTP server while it runs. */
  get httpPort(): number | undefined {
    return this.process ? this.port : undefined;
  }

  /** It runs and serves: its HTTP server listens (it said where). */
  get serving(): boolean {
    return this.httpPort !== undefined;
  }

  get exitedCleanly(): boolean {
    return this.clean;
  }

  start(): void {
    if (this.stopping) return;
    const env = { ...this.spec.env, [this.spec.httpListenVariable]: '127.0.0.1:0' };
    // Its own process group: a Ctrl-C in the terminal reaches the supervisor only, which passes
    // it on; the IPC channel tells the child when the supervisor is gone (libs/runtime).
    // 'advanced' (structured clone): a metric's value may be NaN or ±Infinity, which JSON turns into null.
    const child = spawn(this.spec.command, [...this.spec.args], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      detached: true,
    });
    this.process = child;
    this.port = undefined;
    this.startedAt = Date.now();
    child.on('message', (message) => {
      if (!isListening(message) || this.process !== child) return;
      if (this.port === undefined) this.applyNice(child);
      this.port = message.httpPort;
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.onExit(child, code, signal);
        resolve();
      }),
    );
    child.once('error', (error) => this.log.error({ child: this.spec.name, err: error.message }, 'could not start child'));
    this.log.info({ child: this.spec.name, pid: child.pid }, 'child started');
  }

  /**
   * `spec.nice`, once the child serves: it started at the supervisor's priority, so that a busy
   * machine does not slow its start, and is a session of its own (detached).
   */
  private applyNice(child: ChildProcess): void {
    const nice = this.spec.nice ?? 0;
    if (nice <= 0 || child.pid === undefined) return;
    const problems = lowerPriority(child.pid, nice);
    if (problems.length > 0) this.log.warn({ child: this.spec.name, nice, problems }, "could not lower the child's CPU priority");
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.process === child) this.process = undefined;
    this.lastExit = signal ? `killed by ${signal}` : `exit code ${code}`;
    if (this.stopping) {
      if (code !== 0) this.clean = false;
      return;
    }
    const ranMs = Date.now() - this.startedAt;
    const { resetAfterMs } = { ...BACKOFF_DEFAULTS, ...this.backoff };
    this.failures = ranMs >= resetAfterMs ? 1 : this.failures + 1;
    const restartInMs = restartDelay(this.failures, this.backoff);
    this.log.error(
      { child: this.spec.name, pid: child.pid, code, signal, ranMs, restartInMs, failures: this.failures },
      `${this.spec.name} exited unexpectedly (${this.lastExit}): restarting in ${restartInMs} ms`,
    );
    this.restartTimer = setTimeout(() => {
      this.restarts += 1;
      this.start();
    }, restartInMs);
  }

  /** No more restarts; sends `signal` to the running process and resolves when it has exited. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.process?.kill(signal);
    await this.exited;
  }

  /** SIGKILL, for a child that outlived the grace period. */
  kill(): void {
    this.process?.kill('SIGKILL');
  }

  /**
   * Its metric families, asked over its IPC channel (`MetricsRequest`, answered by runService in
   * libs/runtime); undefined when it does not serve, and when it does not answer within
   * `timeoutMs` (then counted in `scrapeErrors`).
   */
  async metrics(timeoutMs: number): Promise<MetricFamily[] | undefined> {
    const child = this.process;
    if (!child?.connected || !this.serving) return undefined;
    const id = ++this.lastRequest;
    const families = await new Promise<MetricFamily[] | undefined>((resolve) => {
      const done = (result: MetricFamily[] | undefined) => {
        clearTimeout(timer);
        child.off('message', onMessage).off('exit', onExit);
        resolve(result);
      };
      const onMessage = (m: unknown) => {
        if (isMetricsReply(m) && m.id === id) done(m.metrics);
      };
      const onExit = () => done(undefined);
      const timer = setTimeout(onExit, timeoutMs);
      child.on('message', onMessage).once('exit', onExit);
      const request: MetricsRequest = { type: 'metrics', id };
      child.send(request, (error) => error && done(undefined));
    });
    if (!families) this.scrapeErrors += 1;
    return families;
  }

  /** Ready when its own `/readyz` answers 200 within `timeoutMs`; otherwise why not. */
  async status(timeoutMs: number): Promise<ChildStatus> {
    if (!this.process) {
      return { ok: false, error: this.stopping ? `stopped (${this.lastExit})` : `not running (${this.lastExit}); restarting` };
    }
    const port = this.port;
    if (port === undefined) return { ok: false, error: 'starting: its HTTP server does not listen yet' };
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok ? { ok: true } : { ok: false, error: `not ready: ${await failedChecks(res)}` };
    } catch (error) {
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      return { ok: false, error: `no answer from its /readyz on 127.0.0.1:${port}: ${reason}` };
    }
  }
}

/** What a child's 503 says: its failing checks (`redis: unreachable …`), else its status. */
async function failedChecks(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { checks?: Record<string, { ok: boolean; error?: string }> };
    const failed = Object.entries(body.checks ?? {}).filter(([, c]) => !c.ok);
    if (failed.length > 0) return failed.map(([name, c]) => `${name}: ${c.error ?? 'failed'}`).join('; ');
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP ${res.status}`;
}
