/**
 * `mtactl <family> [<command>] [arguments] [--json] [--url URL]`: finds the command, parses its
 * options (node:util parseArgs, strict), runs it, and maps every failure to one line on
 * stderr and an exit code (errors.ts).
 */
import type { Readable, Writable } from 'node:stream';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { ApiClient } from './client';
import type { Command, Context, Family, OptionValues } from './command';
import { accounts } from './commands/accounts';
import { aliases } from './commands/aliases';
import { dkim } from './commands/dkim';
import { domains } from './commands/domains';
import { events } from './commands/events';
import { login } from './commands/login';
import { messages } from './commands/messages';
import { queue } from './commands/queue';
import { shaping } from './commands/shaping';
import { suppressions } from './commands/suppressions';
import { tokens } from './commands/tokens';
import { resolveSettings, type Env, type Settings } from './config';
import { CliError, EXIT, usageError } from './errors';
import { Output } from './output';
import { readSecret } from './secret';

export const FAMILIES: Record<string, Family> = {
  login,
  domains,
  dkim,
  accounts,
  aliases,
  queue,
  messages,
  shaping,
  suppressions,
  events,
  tokens,
};

const GLOBAL: ParseArgsOptionsConfig = {
  json: { type: 'boolean' },
  url: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export interface Io {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean };
  env: Env;
  signal: AbortSignal;
}

function help(): string {
  const lines = [
    'usage: mtactl <command> [arguments] [--json] [--url URL]',
    '',
    'The MTA admin API from the command line. URL and token: MTA_URL and MTA_TOKEN, else what',
    '`mtactl login` saved. --json prints JSON for scripts. Exit codes: 0 ok, 1 the API refused',
    '(its message is printed), 2 usage, 3 API unreachable, 4 not authorized.',
    '',
  ];
  for (const [name, family] of Object.entries(FAMILIES)) lines.push(`  ${name.padEnd(13)} ${family.summary}`);
  lines.push('', 'mtactl <command> --help lists its subcommands and options.');
  return `${lines.join('\n')}\n`;
}

function familyHelp(name: string, family: Family): string {
  const lines = [`${family.summary}.`, ''];
  for (const [commandName, command] of Object.entries(family.commands)) {
    const isDefault = family.default === commandName;
    lines.push(
      `  mtactl ${name} ${command.usage}${isDefault && commandName !== name ? '   (the default)' : ''}`,
    );
    lines.push(`      ${command.summary}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Leading global options (`mtactl --json queue`) and the words after them. */
function splitLeading(argv: string[]): { leading: string[]; rest: string[] } {
  let i = 0;
  while (i < argv.length && argv[i]?.startsWith('-')) i += argv[i] === '--url' ? 2 : 1;
  return { leading: argv.slice(0, i), rest: argv.slice(i) };
}

function findCommand(
  argv: string[],
): { name: string; family: Family; command: Command; args: string[] } | 'help' {
  const { leading, rest } = splitLeading(argv);
  const [name, maybeCommand, ...more] = rest;
  if (name === undefined || name === 'help') {
    if (name === 'help' || leading.includes('--help') || leading.includes('-h')) return 'help';
    throw usageError('no command given; `mtactl --help` lists them');
  }
  const family = FAMILIES[name];
  if (!family) throw usageError(`unknown command "${name}"; \`mtactl --help\` lists them`);
  const named = maybeCommand === undefined ? undefined : family.commands[maybeCommand];
  if (named && maybeCommand !== undefined)
    return { name, family, command: named, args: [...leading, ...more] };
  const fallback = family.default === undefined ? undefined : family.commands[family.default];
  if (fallback) return { name, family, command: fallback, args: [...leading, ...rest.slice(1)] };
  if (maybeCommand === undefined || maybeCommand === '--help' || maybeCommand === '-h')
    throw new CliError(familyHelp(name, family).trimEnd(), maybeCommand ? EXIT.ok : EXIT.usage);
  throw usageError(`unknown command "${name} ${maybeCommand}"; \`mtactl ${name} --help\` lists them`);
}

function parse(command: Command, args: string[]): { positionals: string[]; values: OptionValues } {
  try {
    const { positionals, values } = parseArgs({
      args,
      options: { ...GLOBAL, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    return { positionals, values };
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

function context(io: Io, out: Output, urlFlag: string | undefined): Context {
  let settings: Promise<Settings> | undefined;
  const ctx: Context = {
    out,
    env: io.env,
    stdin: io.stdin,
    urlFlag,
    signal: io.signal,
    settings: () => (settings ??= resolveSettings(io.env, urlFlag, (line) => out.note(line))),
    client: async () => {
      const { url, token } = await ctx.settings();
      return new ApiClient({ url, token, signal: io.signal });
    },
    readSecret: (prompt, confirm) => readSecret(io.stdin, io.stderr, prompt, confirm),
  };
  return ctx;
}

/** Runs one mtactl invocation; resolves to its exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const fail = (error: CliError): number => {
    if (error.exitCode === EXIT.ok) io.stdout.write(`${error.message}\n`);
    else io.stderr.write(`mtactl: ${error.message}\n${error.details.map((d) => `  ${d}\n`).join('')}`);
    return error.exitCode;
  };
  try {
    const found = findCommand(argv);
    if (found === 'help') {
      io.stdout.write(help());
      return EXIT.ok;
    }
    const { name, family, command, args } = found;
    const { positionals, values } = parse(command, args);
    if (values['help'] === true) {
      io.stdout.write(familyHelp(name, family));
      return EXIT.ok;
    }
    const usage = `usage: mtactl ${name} ${command.usage}`;
    if (positionals.length < command.args.min) throw usageError(`missing argument; ${usage}`);
    if (positionals.length > command.args.max)
      throw usageError(`unexpected argument "${positionals[command.args.max]}"; ${usage}`);
    const out = new Output(io.stdout, io.stderr, values['json'] === true);
    const urlFlag = typeof values['url'] === 'string' ? values['url'] : undefined;
    await command.run(context(io, out, urlFlag), positionals, values);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CliError) return fail(error);
    throw error;
  }
}
