import { z } from 'zod';

/** Raised at start-up when the environment is unusable; its message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates `env` against `schema` once, at start-up. On failure it throws a ConfigError listing each
 * offending variable with the reason, e.g. `PORT: must be an integer from 1 to 65535 (got "http")`.
 */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const variable = issue.path.map(String).join('.') || '(environment)';
    const got = env[variable];
    return `  ${variable}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
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

/** An optional URL whose scheme must be one of `schemes`. */
export function urlVar(schemes: string[]) {
  const message = `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`;
  return z.preprocess(
    absentIfEmpty,
    z
      .string()
      .refine((value) => URL.canParse(value) && schemes.includes(new URL(value).protocol.slice(0, -1)), message)
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
