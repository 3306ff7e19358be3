-- Every submission, in arrival order. Listing walks the primary key backwards (keyset pagination),
-- so it stays fast however many rows there are.
CREATE TABLE submissions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  index        integer NOT NULL CHECK (index >= 0),
  submitted_at timestamptz NOT NULL DEFAULT now()
);

-- The reconciler looks for submitted indexes that have no result yet.
CREATE INDEX submissions_index_idx ON submissions (index);

-- One exact value per index, written once by the worker.
CREATE TABLE results (
  index       integer PRIMARY KEY CHECK (index >= 0),
  value       text NOT NULL CHECK (value ~ '^[0-9]+$'),
  digits      integer NOT NULL CHECK (digits = length(value)),
  computed_at timestamptz NOT NULL DEFAULT now(),
  compute_ms  double precision NOT NULL CHECK (compute_ms >= 0)
);

-- Digits do not compress well, and storing them uncompressed lets lists read a prefix of a long value
-- without fetching the whole of it.
ALTER TABLE results ALTER COLUMN value SET STORAGE EXTERNAL;
