import { useEffect, useState } from 'react';
import { limitsSchema, type Limits } from '@fibstack/contract/limits';
import { requestJson } from './http';

let request: Promise<Limits> | undefined;

/** `GET /api/limits`, once per page load; a failed attempt is forgotten so the next caller asks again. */
function fetchLimits(): Promise<Limits> {
  request ??= requestJson('/api/limits', limitsSchema).catch((error: unknown) => {
    request = undefined;
    throw error;
  });
  return request;
}

/** The server's limits, or undefined until they arrive (the server checks every request anyway). */
export function useLimits(): Limits | undefined {
  const [limits, setLimits] = useState<Limits>();
  useEffect(() => {
    let mounted = true;
    fetchLimits().then(
      (answer) => mounted && setLimits(answer),
      () => undefined,
    );
    return () => {
      mounted = false;
    };
  }, []);
  return limits;
}
