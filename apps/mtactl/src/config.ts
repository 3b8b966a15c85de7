/**
 * Where mtactl finds the API and its token. The environment wins over the file `mtactl login`
 * writes, and `--url` over both:
 *
 * - URL:   `--url`, else `MTA_URL`, else the file's `url`, else http://127.0.0.1:8080 (`npm start`).
 * - token: `MTA_TOKEN`, else the file's `token`. Never an argument (it would show in `ps`).
 * - file:  `MTACTL_CONFIG`, else `$XDG_CONFIG_HOME/mtactl/config.json` (`~/.config/...`),
 *          written with mode 0600 in a 0700 directory, as the token is a secret.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CliError, EXIT } from './errors';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

const ConfigFile = z.object({ url: z.string().optional(), token: z.string().optional() });
export type ConfigFile = z.output<typeof ConfigFile>;

export interface Settings {
  url: string;
  token: string | undefined;
  file: string;
  /** Where the token came from, for messages. */
  tokenFrom: 'MTA_TOKEN' | 'file' | 'none';
}

export type Env = Record<string, string | undefined>;

export function configPath(env: Env): string {
  if (env['MTACTL_CONFIG']) return env['MTACTL_CONFIG'];
  const base = env['XDG_CONFIG_HOME'] || path.join(env['HOME'] || os.homedir(), '.config');
  return path.join(base, 'mtactl', 'config.json');
}

export async function readConfigFile(file: string, warn: (line: string) => void): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  const parsed = ConfigFile.safeParse(safeParse(text));
  if (!parsed.success)
    throw new CliError(`${file} is not an mtactl configuration; run \`mtactl login\` again`, EXIT.usage);
  if (parsed.data.token && ((await stat(file)).mode & 0o077) !== 0)
    warn(`warning: ${file} holds a token and others may read it: chmod 600 ${file}`);
  return parsed.data;
}

export async function resolveSettings(
  env: Env,
  urlFlag: string | undefined,
  warn: (line: string) => void,
): Promise<Settings> {
  const file = configPath(env);
  const saved = await readConfigFile(file, warn);
  const url = urlFlag || env['MTA_URL'] || saved.url || DEFAULT_URL;
  checkUrl(url);
  const fromEnv = env['MTA_TOKEN'];
  if (fromEnv) return { url, token: fromEnv, file, tokenFrom: 'MTA_TOKEN' };
  return { url, token: saved.token, file, tokenFrom: saved.token ? 'file' : 'none' };
}

export function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`not a URL: ${url} (expected e.g. ${DEFAULT_URL})`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`not an http(s) URL: ${url}`, EXIT.usage);
}

/** Writes the file with mode 0600 (whatever the umask), through a rename so it is never half written. */
export async function writeConfigFile(file: string, config: ConfigFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
