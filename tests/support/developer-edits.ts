import { request } from 'node:http';
import { join } from 'node:path';
import { edit } from './checkout.js';

/**
 * The edits a developer makes most, one per workspace, and how each shows that it was picked up. Shared
 * by the native (`npm run dev`) and the dev compose tests, which measure the same loop both ways.
 */

/** One HTTP request on a connection of its own (as a browser's next request after an edit may be). */
export function get(url: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', agent: false, headers: init.body ? { 'Content-Type': 'application/json' } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * True when the hot-restart runner whose output is `log` has its next process loaded, as it has when edits
 * come at a developer's pace; an edit the moment the previous one was served meets a process still loading.
 */
export function runnerReady(log: string): boolean {
  const last = log
    .split('\n')
    .filter((line) => line.includes('[hot-restart]') && !line.includes('[hot-restart] cannot watch'))
    .at(-1);
  return last?.includes('ready for the next change') ?? false;
}

export interface Served {
  /** Milliseconds from the edit until the new code answered. */
  ms: number;
  /** Answers that were neither the old nor the new code's (a 502/503 from a proxy, a refused connection). */
  failures: string[];
}

/**
 * Sends requests back to back from the moment of the edit until the answer shows the edit, recording every
 * answer that is neither the old nor the new behaviour. Bounded by `timeoutMs`.
 */
export async function editAndPoll(
  edit: () => void,
  probe: () => Promise<{ status: number; body: string }>,
  isNew: (answer: { status: number; body: string }) => boolean,
  expectedStatus: number,
  timeoutMs: number,
): Promise<Served> {
  const failures: string[] = [];
  const started = Date.now();
  edit();
  for (;;) {
    try {
      const answer = await probe();
      if (answer.status !== expectedStatus) failures.push(`${answer.status} ${answer.body.slice(0, 120)}`);
      else if (isNew(answer)) return { ms: Date.now() - started, failures };
    } catch (error) {
      failures.push(String(error));
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`the edit was not served within ${timeoutMs} ms; failures: ${failures.join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const messageOf = (answer: { body: string }) => (JSON.parse(answer.body) as { error: { message: string } }).error.message;

/** server/: the message of the API's 404. */
export function editServer(root: string, baseUrl: string, timeoutMs: number): Promise<Served> {
  return editAndPoll(
    () => edit(join(root, 'server/src/http/errors.ts'), '`no route for ${req.method}', '`nothing here for ${req.method}'),
    () => get(`${baseUrl}/api/nope`),
    (answer) => messageOf(answer).startsWith('nothing here for'),
    404,
    timeoutMs,
  );
}

/**
 * contract/: the rule for a negative index, which server and client both apply. The server's answer shows
 * the new message; the page shows the new rule: 7 (CONTRACT_EDIT_REFUSES) is refused as negative from then on.
 */
export const CONTRACT_EDIT_REFUSES = 7;
export function editContract(root: string, baseUrl: string, timeoutMs: number): Promise<Served> {
  const file = join(root, 'contract/src/values.ts');
  return editAndPoll(
    () => {
      edit(file, 'if (input < 0) {', `if (input < 0 || input === ${CONTRACT_EDIT_REFUSES}) {`);
      edit(file, 'index must not be negative', 'index cannot be negative');
    },
    () => get(`${baseUrl}/api/values`, { method: 'POST', body: '{"index":-1}' }),
    (answer) => messageOf(answer).startsWith('index cannot be negative'),
    422,
    timeoutMs,
  );
}

/**
 * contract/: the message for a missing index, which the API answers with, saved by `save` (in place, as
 * `edit` does, or renamed over the original, as `renameSave` does) to say `index is required (<marker>)`.
 * Can be repeated with other markers.
 */
export function editRequiredMessage(root: string, baseUrl: string, marker: string, save: typeof edit, timeoutMs: number): Promise<Served> {
  const message = `index is required (${marker})`;
  return editAndPoll(
    () => save(join(root, 'contract/src/values.ts'), /index is required[^']*/, message),
    () => get(`${baseUrl}/api/values`, { method: 'POST', body: '{}' }),
    (answer) => messageOf(answer) === message,
    422,
    timeoutMs,
  );
}

/** service-kit/: a field every log line of the server and the worker carries from then on. */
export function editServiceKit(root: string, marker: string): void {
  edit(join(root, 'service-kit/src/logger.ts'), 'base: { service }', `base: { service, edit: '${marker}' }`);
}

/** worker/: the line the worker logs when it has started. */
export function editWorker(root: string, marker: string): void {
  edit(join(root, 'worker/src/main.ts'), "'worker started'", `'worker started (${marker})'`);
}

/** client/: the home page's heading. */
export function editClient(root: string, marker: string): void {
  edit(join(root, 'client/src/features/values/HomePage.tsx'), 'title="Fibonacci calculator"', `title="Fibonacci calculator ${marker}"`);
}
