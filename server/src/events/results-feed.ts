import type pg from 'pg';
import { PREVIEW_DIGITS, type ResultEvent } from '@fibstack/contract/values';

/** A stored result as the event streams send it, with its id (its place in commit order, migration 002). */
export interface StoredResultEvent {
  id: number;
  event: ResultEvent;
}

interface Row {
  id: string;
  index: number;
  head: string;
  digits: number;
  computeMs: number;
  computedAt: Date;
}

/**
 * The event streams' reads of the results table, by id. Ids grow in the order commits become visible,
 * so "everything after the last id seen" never skips a row. The value column is stored uncompressed:
 * reading its head costs the same for a value of ten digits or of a million.
 */
export class ResultsFeed {
  constructor(private readonly pool: pg.Pool) {}

  /** The id of the latest result stored (0 when there is none). */
  async latestId(): Promise<number> {
    const { rows } = await this.pool.query<{ id: string | null }>({ name: 'latest-result-id', text: 'SELECT max(id) AS id FROM results' });
    return Number(rows[0]!.id ?? 0);
  }

  /** Results with `afterId < id <= upToId`, oldest first, at most `limit` of them. */
  async after(afterId: number, limit: number, upToId = Number.MAX_SAFE_INTEGER): Promise<StoredResultEvent[]> {
    const { rows } = await this.pool.query<Row>({
      name: 'results-after',
      text: `SELECT id, index, substr(value, 1, $4) AS head, digits, compute_ms AS "computeMs", computed_at AS "computedAt"
             FROM results WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`,
      values: [afterId, upToId, limit, PREVIEW_DIGITS],
    });
    return rows.map(({ id, index, head, digits, computeMs, computedAt }) => {
      // The same preview as the worker's previewOf(value): the head, and an ellipsis when it is not all.
      const truncated = digits > PREVIEW_DIGITS;
      return {
        id: Number(id),
        event: { index, value: truncated ? `${head}…` : head, digits, truncated, computeMs, computedAt: computedAt.toISOString() },
      };
    });
  }
}
