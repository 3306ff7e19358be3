import { UnrecoverableError } from 'bullmq';
import { jobDataSchema, RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import { previewOf } from '@fibstack/contract/values';
import { INLINE_MAX_INDEX } from '../fibonacci/pool.js';
/**
 * What the worker does with one job: compute Fibonacci(index) unless it is already stored, store it,
 * and announce it on RESULTS_CHANNEL for the API's live stream. Errors other than bad job data are
 * thrown, so BullMQ retries them with backoff.
 *
 * A small value costs less to compute than a round trip to ask whether it is stored, so only big ones
 * are looked up first; the insert keeps the first value either way.
 */
export function createProcessor({ store, pool, publisher, logger }) {
    return async (job) => {
        const parsed = jobDataSchema.safeParse(job.data);
        if (!parsed.success)
            throw new UnrecoverableError(`invalid job data: ${JSON.stringify(job.data).slice(0, 200)}`);
        const { index, requestId } = parsed.data;
        const log = logger.child({ jobId: job.id, index, requestId, attempt: job.attemptsMade + 1 });
        if (index > INLINE_MAX_INDEX && (await store.has(index))) {
            log.info('value already stored; nothing to compute');
            return { index, stored: false };
        }
        const { value, computeMs } = await pool.compute(index);
        const computedAt = await store.insert(index, value, computeMs);
        if (!computedAt) {
            log.info('value already stored; kept the stored one');
            return { index, stored: false };
        }
        const event = {
            index,
            digits: value.length,
            computeMs,
            computedAt: computedAt.toISOString(),
            ...previewOf(value),
        };
        await publisher.publish(RESULTS_CHANNEL, JSON.stringify(event)).catch((error) => {
            // The value is stored; live viewers miss one event and catch up on their next page load.
            log.warn({ err: error }, 'could not announce the result');
        });
        log.info({ digits: value.length, computeMs: Math.round(computeMs * 1000) / 1000 }, 'value computed');
        return { index, stored: true, digits: value.length };
    };
}
//# sourceMappingURL=processor.js.map