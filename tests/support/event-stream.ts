/**
 * A Server-Sent Events stream read in the background, with bounded waits: a buffering proxy or a lost
 * subscription then fails the test that waits, naming what never came, instead of hanging it until the
 * suite's timeout.
 */
export interface EventStream {
  /** Everything received so far. */
  text(): string;
  /** Resolves once the stream has carried `text`; rejects after `timeoutMs` or when the stream ends first. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  contentType: string | null;
  close(): void;
}

export async function openEventStream(url: string, timeoutMs = 10_000): Promise<EventStream> {
  const controller = new AbortController();
  const opening = setTimeout(() => controller.abort(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
  const response = await fetch(url, { signal: controller.signal }).finally(() => clearTimeout(opening));
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
  let received = '';
  let ended = false;
  const wake = new Set<() => void>();
  const notify = () => wake.forEach((fn) => fn());
  void (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        received += chunk.value;
        notify();
      }
    } catch {
      // aborted by close(), or the connection failed: either way the stream is over
    }
    ended = true;
    notify();
  })();

  return {
    text: () => received,
    contentType: response.headers.get('content-type'),
    waitFor(text, waitMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.includes(text)) return done(resolve);
          if (ended) done(() => reject(new Error(`the stream ended before it carried ${JSON.stringify(text)}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`the stream did not carry ${JSON.stringify(text)} within ${waitMs} ms`))),
          waitMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          wake.delete(check);
          settle();
        };
        wake.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
}
