-- Each stored result is an event of the live stream (GET /api/events), and its id is the event's id:
-- a browser that reconnects says the last id it saw (Last-Event-ID) and is sent every result after it.
-- Existing rows get ids too (this rewrites the table once).
ALTER TABLE results ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE results ADD CONSTRAINT results_id_key UNIQUE (id);

-- Ids in the order commits become visible, so that a reader that has seen id N can never later find a
-- committed row with a smaller id (it reads `id > N` and would skip it for good). An identity value is
-- drawn when a row is inserted, and two transactions may commit in the other order; so every INSERT
-- statement first takes one transaction-scoped advisory lock, which its transaction holds until it ends.
-- Postgres makes a commit visible before it releases the transaction's locks, so the next writer draws
-- its ids only once the rows before them are visible to every new snapshot. A statement trigger (fired
-- before any row, and so before any id, is drawn) holds for every writer: the worker, psql, a test. The
-- cost is that writers of results commit one at a time; the worker stores up to 200 per statement.
-- 7400138: any constant not used by another advisory lock of this database (migrations use 7400137).
CREATE FUNCTION results_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7400138);
  RETURN NULL;
END
$$;

CREATE TRIGGER results_in_commit_order BEFORE INSERT ON results
  FOR EACH STATEMENT EXECUTE FUNCTION results_in_commit_order();
