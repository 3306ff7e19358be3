import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Raised at start-up when the environment is unusable; its message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates `env` against `schema` once, at start-up. On failure it throws a ConfigError listing each
 * offending variable with the reason, e.g. `PORT: must be an integer from 1 to 65535 (got "http")`. The
 * value of a secret (see `secretVar`) is never shown: a malformed `DATABASE_URL` must not print its password.
 */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const secrets = new Set(secretNames(schema));
  const { resolved, fromFile, problems } = readSecretFiles(env, secrets);
  const result = schema.safeParse(resolved);
  if (result.success && !problems.length) return result.data;
  const lines = (result.success ? [] : result.error.issues).map((issue) => {
    const variable = issue.path.map(String).join('.') || '(environment)';
    const got = resolved[variable];
    const shown = secrets.has(variable)
      ? ` (${fromFile.has(variable) ? `read from ${variable}_FILE; ` : ''}value not shown: it holds a secret)`
      : ` (got ${JSON.stringify(got)})`;
    return `  ${variable}: ${issue.message}${got === undefined ? '' : shown}`;
  });
  throw new ConfigError(`Invalid configuration:\n${[...problems, ...lines].join('\n')}`);
}

/**
 * Each secret given as NAME_FILE is read into NAME (the Docker-secrets convention). A file that cannot
 * be read, an empty one, or both NAME and NAME_FILE set, is a problem to report with the others.
 */
function readSecretFiles(env: NodeJS.ProcessEnv, secrets: Set<string>) {
  const resolved: NodeJS.ProcessEnv = { ...env };
  const fromFile = new Set<string>();
  const problems: string[] = [];
  for (const name of secrets) {
    const path = env[`${name}_FILE`];
    if (!path) continue;
    if (env[name]) {
      problems.push(`  ${name}_FILE: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      // Files written by `echo` or an editor end with a newline that is no part of the secret.
      const value = readFileSync(path, 'utf8').replace(/(\r?\n)+$/, '');
      if (value === '') problems.push(`  ${name}_FILE: ${JSON.stringify(path)} is empty`);
      resolved[name] = value;
      fromFile.add(name);
    } catch (error) {
      problems.push(`  ${name}_FILE: cannot read ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return { resolved, fromFile, problems };
}

/**
 * For an entry point: the configuration `load` returns, or, when it throws a ConfigError, that message
 * (every bad variable) on stderr and exit 1 before anything starts. Other errors are bugs and propagate.
 */
export function configOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/** An unset or empty variable counts as absent, so `FOO=` in a .env file falls back to the default. */
const absentIfEmpty = (value: unknown) => (value === '' ? undefined : value);

/** An integer variable within bounds, with a default. */
export function intVar(min: number, max: number, fallback: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z.preprocess(
    absentIfEmpty,
    z.string().regex(/^\d+$/, message).transform(Number).pipe(z.number().int().min(min, message).max(max, message)).default(fallback),
  );
}

/** A boolean variable: true/false/1/0, with a default. */
export function boolVar(fallback: boolean) {
  return z.preprocess(
    absentIfEmpty,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .transform((value) => value === 'true' || value === '1')
      .default(fallback),
  );
}

/** An optional string variable (empty means unset). */
export function optionalVar() {
  return z.preprocess(absentIfEmpty, z.string().optional());
}

/** A string variable with a default. */
export function stringVar(fallback: string) {
  return z.preprocess(absentIfEmpty, z.string().default(fallback));
}

/** The schemas of variables that carry a secret (see `secretVar`), so parseEnv never shows their values. */
const secretSchemas = new WeakSet<z.ZodType>();

/** The variables of an object `schema` that carry a secret. */
export function secretNames(schema: z.ZodType): string[] {
  const shape = (schema as { shape?: Record<string, z.ZodType> }).shape ?? {};
  return Object.keys(shape).filter((name) => secretSchemas.has(shape[name]!));
}

/** Marks a variable as carrying a secret, whose value configuration errors never show. */
export function secret<T extends z.ZodType>(schema: T): T {
  secretSchemas.add(schema);
  return schema;
}

/**
 * A variable that carries a secret (a password, a token, a URL with credentials), and its NAME_FILE twin
 * (the Docker-secrets convention): the path of a file holding the value, for secrets mounted as files
 * rather than set in the environment. Configuration errors never show a secret's value.
 */
export function secretVar<N extends string, T extends z.ZodType>(name: N, schema: T) {
  return { [name]: secret(schema), [`${name}_FILE`]: optionalVar() } as { [K in N]: T } & {
    [K in `${N}_FILE`]: ReturnType<typeof optionalVar>;
  };
}

/** Whether the user name and password of `url` are valid percent-encoding. */
function decodableCredentials(url: URL): boolean {
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    return true;
  } catch {
    return false;
  }
}

/**
 * An optional URL whose scheme must be one of `schemes`. A `#` can only be a password's unencoded `#`
 * (connection URLs have no fragment), which would otherwise leave the rest of the URL unread.
 */
export function urlVar(schemes: string[]) {
  const message =
    `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}, ` +
    'with any @ : / ? # % in the user name or password percent-encoded (encodeURIComponent)';
  const parsed = (value: string) => (URL.canParse(value) ? new URL(value) : undefined);
  return z.preprocess(
    absentIfEmpty,
    z
      .string()
      .refine((value) => {
        const url = parsed(value);
        return url !== undefined && schemes.includes(url.protocol.slice(0, -1)) && !value.includes('#');
      }, message)
      .refine((value) => {
        const url = parsed(value);
        return url === undefined || decodableCredentials(url);
      }, 'has a user name or password that is not valid percent-encoding (write % as %25)')
      .optional(),
  );
}

export const logLevelVar = z.preprocess(
  absentIfEmpty,
  z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
);
