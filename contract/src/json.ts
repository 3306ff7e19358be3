/**
 * Text received from elsewhere (a pub/sub message, a server-sent event) as a value, or `undefined` when
 * it is not JSON: the caller then validates it against the contract's schema like any other input.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
