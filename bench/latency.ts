import type { BenchStack } from './bench-stack.js';
import { machineLoad } from './cpu.js';
import { percentile, round } from './stats.js';
import { sleep } from '@fibstack/devstack/testkit';
import { waitUntil } from './wait.js';

export interface LatencyOptions {
  samples: number;
  /** How long one value may take to become visible before it is reported as timed out. */
  perSampleTimeoutMs: number;
  warmUpPosts: number;
}

/**
 * Submit → visible on an idle system, for small indexes: the time until the value can be read, and until
 * its SSE event arrives. Starts from a reset, so no index is stored or queued already; should one still
 * answer "done" at once, it is reported, not waited for.
 */
export async function visibleLatency(bench: BenchStack, options: LatencyOptions) {
  await bench.reset({ warmUpPosts: options.warmUpPosts });
  const url = bench.stack.url;
  const streamed = new Map<number, number>();
  const controller = new AbortController();
  const events = await fetch(`${url}/api/events`, { signal: controller.signal });
  const reading = (async () => {
    let buffer = '';
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const frames = buffer.split('\n\n');
      buffer = frames.pop() ?? '';
      for (const frame of frames) {
        const index = /^data: \{"index":(\d+),/m.exec(frame)?.[1];
        if (index !== undefined) streamed.set(Number(index), performance.now());
      }
    }
  })().catch(() => undefined);

  const readable: number[] = [];
  const viaSse: number[] = [];
  const problems: string[] = [];
  try {
    for (let i = 0; i < options.samples; i++) {
      const index = (i * 5) % 1_000;
      const started = performance.now();
      const answer = await fetch(`${url}/api/values`, {
        signal: AbortSignal.timeout(options.perSampleTimeoutMs),
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ index }),
      }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      if (answer instanceof Error || answer.status !== 202) {
        const what = answer instanceof Error ? `no answer (${answer.message})` : `answered ${answer.status} instead of 202 pending`;
        problems.push(`index ${index}: ${what}; not measured`);
        continue;
      }
      const read = await waitUntil(
        async () =>
          (
            (await (await fetch(`${url}/api/values/${index}`, { signal: AbortSignal.timeout(options.perSampleTimeoutMs) })).json()) as {
              status: string;
            }
          ).status === 'done',
        { timeoutMs: options.perSampleTimeoutMs, intervalMs: 0, what: `index ${index} to be readable` },
      );
      if (!read.ok) {
        problems.push(read.timedOut);
        continue;
      }
      readable.push(performance.now() - started);
      const event = await waitUntil(() => streamed.has(index), {
        timeoutMs: options.perSampleTimeoutMs,
        intervalMs: 1,
        what: `the SSE event of index ${index}`,
      });
      if (event.ok) viaSse.push(streamed.get(index)! - started);
      else problems.push(event.timedOut);
      await sleep(10);
    }
  } finally {
    controller.abort();
    await reading;
  }
  return {
    samples: options.samples,
    measured: readable.length,
    readableP50Ms: round(percentile(readable, 50)),
    readableP99Ms: round(percentile(readable, 99)),
    sseP50Ms: round(percentile(viaSse, 50)),
    sseP99Ms: round(percentile(viaSse, 99)),
    problems,
    load: machineLoad(),
  };
}
