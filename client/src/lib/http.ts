import { apiErrorSchema } from '@fibstack/contract/errors';

/** Any zod (mini) schema: all the client needs is safeParse. */
interface Schema<T> {
  safeParse(input: unknown): { success: true; data: T } | { success: false };
}

/** Failures the client meets without an API error body to name them. */
export type ClientErrorCode = 'network_error' | 'unavailable' | 'bad_response';

/**
 * A failed API call. `code` is the API's error code (see contract/errors) or a ClientErrorCode; what a
 * person reads is chosen from it by `explain` (lib/error-messages). The message is the server's own,
 * for developers.
 */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function errorFrom(response: Response): Promise<ApiRequestError> {
  const body = apiErrorSchema.safeParse(await response.json().catch(() => undefined));
  if (body.success) return new ApiRequestError(response.status, body.data.error.code, body.data.error.message);
  // Not the API's JSON: a proxy in front of it answered (a 502 while the server restarts, for instance).
  return new ApiRequestError(response.status, 'unavailable', `HTTP ${response.status} without an API error body`);
}

/**
 * Calls the API and checks the answer against the contract, so a server that drifted from it shows
 * an error instead of a broken page.
 */
export async function requestJson<T>(url: string, schema: Schema<T>, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { Accept: 'application/json', ...init?.headers } });
  } catch (error) {
    throw new ApiRequestError(0, 'network_error', String(error));
  }
  if (!response.ok) throw await errorFrom(response);
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new ApiRequestError(response.status, 'bad_response', `${url} answered outside the contract`);
  return parsed.data;
}
