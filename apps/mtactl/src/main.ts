// mtactl: the MTA admin API from the command line (README, "mtactl").
import { run } from './cli';

const controller = new AbortController();
// The first Ctrl-C ends `events --follow` cleanly and abandons a request; a second one exits at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => (controller.signal.aborted ? process.exit(130) : controller.abort()));
// `mtactl messages list | head`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `mtactl: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
