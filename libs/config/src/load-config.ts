import { z } from 'zod';
import { variables, type Variable, type VariableName } from './variables';

/** The validated configuration: one typed value per variable, keyed by its environment name. */
export type AppConfig = {
  [K in VariableName]: (typeof variables)[K]['defaults'] extends { production: string }
    ? z.output<(typeof variables)[K]['schema']>
    : z.output<(typeof variables)[K]['schema']> | undefined;
};

/** Raised when the environment is invalid; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration from `env`. Empty strings count as unset, so
 * `FOO=` falls back to the default. Throws ConfigError naming every bad variable; a
 * secret's value is never repeated in the message.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const profile = env['NODE_ENV'] === 'development' ? 'development' : 'production';
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  /** Given but invalid: reported once, by name, and still counted as given below. */
  const invalid = new Set<string>();

  for (const [name, def] of Object.entries(variables) as [VariableName, (typeof variables)[VariableName]][]) {
    const raw = env[name] === '' ? undefined : env[name];
    const defaults: Variable<unknown>['defaults'] = def.defaults;
    const value = raw ?? defaults[profile];
    if (value === undefined) continue;
    const result = (def.schema as z.ZodType<unknown, string>).safeParse(value);
    if (result.success) {
      config[name] = result.data;
    } else {
      invalid.add(name);
      const why = result.error.issues.map((issue) => issue.message).join(', ');
      problems.push(
        def.secret ? `${name}: ${why}` : `${name}: ${why}${why.includes(value) ? '' : ` (got "${value}")`}`,
      );
    }
  }

  // Both halves of the TLS key pair or neither.
  if ((config['TLS_CERT_FILE'] === undefined) !== (config['TLS_KEY_FILE'] === undefined)) {
    problems.push(
      config['TLS_CERT_FILE'] === undefined
        ? 'TLS_CERT_FILE: must be set when TLS_KEY_FILE is set'
        : 'TLS_KEY_FILE: must be set when TLS_CERT_FILE is set',
    );
  }

  const [first, max] = [config['RETRY_FIRST_MS'], config['RETRY_MAX_MS']];
  if (typeof first === 'number' && typeof max === 'number' && max < first)
    problems.push(`RETRY_MAX_MS: must be at least RETRY_FIRST_MS (${first}), got ${max}`);

  problems.push(...relayCredentialProblems((name) => config[name] !== undefined || invalid.has(name)));

  if (problems.length > 0) throw new ConfigError(problems);
  return config as AppConfig;
}

/** Smart host credentials: a user name needs the host and exactly one source of password. */
function relayCredentialProblems(given: (name: VariableName) => boolean): string[] {
  const user = given('RELAY_HOST_USERNAME');
  const password = given('RELAY_HOST_PASSWORD');
  const file = given('RELAY_HOST_PASSWORD_FILE');
  const problems: string[] = [];
  if (user && !given('RELAY_HOST'))
    problems.push('RELAY_HOST_USERNAME: needs RELAY_HOST (credentials are only for the smart host)');
  if (user && !password && !file)
    problems.push('RELAY_HOST_USERNAME: needs RELAY_HOST_PASSWORD or RELAY_HOST_PASSWORD_FILE');
  if (password && file) problems.push('RELAY_HOST_PASSWORD: set it or RELAY_HOST_PASSWORD_FILE, not both');
  if (!user && (password || file))
    problems.push(
      `${password ? 'RELAY_HOST_PASSWORD' : 'RELAY_HOST_PASSWORD_FILE'}: needs RELAY_HOST_USERNAME`,
    );
  return problems;
}
