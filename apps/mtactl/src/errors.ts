/**
 * mtactl's exit codes, for scripts (README, "mtactl"):
 *
 * | code | meaning |
 * | --- | --- |
 * | 0 | done |
 * | 1 | the API refused the request (its message is printed), or answered what mtactl does not understand |
 * | 2 | usage: unknown command or option, missing or extra argument |
 * | 3 | the API cannot be reached (connection refused, name not found, timeout, not the MTA API) |
 * | 4 | not authorized: no token, or the API refused it (401/403) |
 * | 130 | interrupted (Ctrl-C) while waiting for the API |
 */
export const EXIT = {
  ok: 0,
  apiError: 1,
  usage: 2,
  unreachable: 3,
  unauthorized: 4,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with one message on stderr and its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Further lines, e.g. each bad field of a 400. */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);
