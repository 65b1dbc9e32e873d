-- 001_init.sql - the first schema of the avsink quarantine on PostgreSQL (applied by
-- `avsink quarantine migrate` only). Entries are the entry files of entry.h, split into chunks.
CREATE TABLE avsink_schema (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);
-- One row per entry; it and its chunks are inserted in one transaction.
CREATE TABLE avsink_entries (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  time bigint NOT NULL,      -- quarantine time (Unix seconds), for retention
  size bigint NOT NULL,      -- bytes of the whole entry file
  chunks integer NOT NULL,   -- rows in avsink_chunks
  sha256 text NOT NULL       -- of the whole entry file (export manifests)
);
CREATE INDEX avsink_entries_time ON avsink_entries (time);
CREATE TABLE avsink_chunks (
  id text NOT NULL REFERENCES avsink_entries (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (id, seq)
);
-- Chunks are mostly ciphertext: out of line, without a futile compression attempt.
ALTER TABLE avsink_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
-- Release records: a mark is honoured once (used_at set by a conditional UPDATE).
CREATE TABLE avsink_releases (
  id text NOT NULL,
  mark_time bigint NOT NULL,
  rcpts text NOT NULL,       -- JSON array of recipients it was released to
  used_at bigint,
  PRIMARY KEY (id, mark_time)
);
