-- Exact give-backs (Store::release): a reservation's token names the
-- record's generation and the failure's serial, and a give-back only applies
-- to that generation.
--
-- generation: bumped when the record's count restarts in place after its
-- window passed (a record deleted and made again gets a new id: ids are
-- AUTOINCREMENT, never reused). failure_serial: bumped with every failure
-- counted on the record, never decremented. Existing records start at 0.

ALTER TABLE axes_accessattempt ADD COLUMN generation INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0);
ALTER TABLE axes_accessattempt ADD COLUMN failure_serial INTEGER NOT NULL DEFAULT 0 CHECK (failure_serial >= 0);
