/** Shared steps for the session specs (not a spec itself, not exported by the lib). */
import { expect } from 'vitest';
import type { SmtpCommand } from './command';
import { parseCommand } from './command-parser';
import type { ServerCapabilities } from './extensions';
import { SmtpSession, type SessionOptions, type SessionState } from './session';

export const FULL: ServerCapabilities = {
  pipelining: true,
  maxMessageSize: 1000,
  eightBitMime: true,
  smtpUtf8: true,
  enhancedStatusCodes: true,
  startTls: true,
  authMechanisms: ['PLAIN', 'LOGIN'],
  dsn: true,
  chunking: true,
  binaryMime: true,
  requireTls: true,
};

/** Parse with ALL extensions so the session (not the parser) has to decide. */
export function cmd(line: string): SmtpCommand {
  const r = parseCommand(line, { smtpUtf8: true });
  if (!r.ok) throw new Error(`test line does not parse: ${line}`);
  return r.command;
}

export type Step = [line: string, expected: 'ok' | `${number} ${string}`, state?: SessionState];

export function run(steps: Step[], options: SessionOptions = { capabilities: FULL }): SmtpSession {
  const s = new SmtpSession(options);
  for (const [line, expected, state] of steps) {
    const v = s.apply(cmd(line));
    const got = v.allowed ? 'ok' : `${v.error.code} ${v.error.enhanced}`;
    expect(got, line).toBe(expected);
    if (state) expect(s.state, line).toBe(state);
  }
  return s;
}
