-- One row per submitted index instead of one per submission, so repeating an index costs no new row:
-- a client submitting the same index all day adds one row, ever. What the page lists, each index with
-- how often it was submitted, most recently submitted first, is read from it directly.
--
-- Each submission draws an id from submission_ids (ids grow in arrival order) and the index's row keeps
-- the latest as last_submission: the list walks that unique index backwards (keyset pagination), and
-- the retention job walks it forwards to find the indexes submitted longest ago.
CREATE SEQUENCE submission_ids;

CREATE TABLE submitted_indexes (
  index              integer PRIMARY KEY CHECK (index >= 0),
  submissions        bigint NOT NULL CHECK (submissions > 0),
  first_submitted_at timestamptz NOT NULL DEFAULT now(),
  last_submitted_at  timestamptz NOT NULL DEFAULT now(),
  last_submission    bigint NOT NULL DEFAULT nextval('submission_ids'),
  -- Maybe without a value: set when the index is first submitted (or submitted again while its value is
  -- missing), cleared by the reconciler once the value is stored. The reconciler reads only these rows
  -- (the partial index below), so its pass costs what is unresolved, not what was ever submitted.
  pending            boolean NOT NULL DEFAULT true
);
ALTER SEQUENCE submission_ids OWNED BY submitted_indexes.last_submission;
CREATE UNIQUE INDEX submitted_indexes_last_submission_key ON submitted_indexes (last_submission);
CREATE INDEX submitted_indexes_pending_idx ON submitted_indexes (index) WHERE pending;

-- The submissions so far, folded into one row per index; an old submission id becomes the
-- last_submission, so the list keeps its order and new ids follow the old ones.
INSERT INTO submitted_indexes (index, submissions, first_submitted_at, last_submitted_at, last_submission, pending)
SELECT s.index, count(*), min(s.submitted_at), max(s.submitted_at), max(s.id),
       NOT EXISTS (SELECT 1 FROM results r WHERE r.index = s.index)
FROM submissions s
GROUP BY s.index;
SELECT setval('submission_ids', max(last_submission)) FROM submitted_indexes HAVING count(*) > 0;

DROP TABLE submissions;
