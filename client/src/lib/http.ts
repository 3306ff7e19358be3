import { apiErrorSchema } from '@fibstack/contract/errors';

/** Any zod (mini) schema: all the client needs is safeParse. */
interface Schema<T> {
  safeParse(input: unknown): { success: true; data: T } | { success: false };
}

/** A failed API call, with a message fit to show a person. `status` 0 means the API was unreachable. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const UNREACHABLE = 'The API cannot be reached right now. Check your connection or try again in a moment.';

async function errorFrom(response: Response): Promise<ApiRequestError> {
  const body = apiErrorSchema.safeParse(await response.json().catch(() => undefined));
  if (body.success) return new ApiRequestError(response.status, body.data.error.code, body.data.error.message);
  return new ApiRequestError(response.status, 'unavailable', `The API is unavailable (HTTP ${response.status}). Try again shortly.`);
}

/**
 * Calls the API and checks the answer against the contract, so a server that drifted from it shows
 * an error instead of a broken page.
 */
export async function requestJson<T>(url: string, schema: Schema<T>, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { Accept: 'application/json', ...init?.headers } });
  } catch {
    throw new ApiRequestError(0, 'network_error', UNREACHABLE);
  }
  if (!response.ok) throw await errorFrom(response);
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new ApiRequestError(response.status, 'bad_response', 'The API answered in an unexpected format.');
  return parsed.data;
}
