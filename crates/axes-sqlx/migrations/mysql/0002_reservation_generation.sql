-- Exact give-backs (Store::release): a reservation's token names the
-- record's generation and the failure's serial, and a give-back only applies
-- to that generation.
--
-- generation: bumped when the record's count restarts in place after its
-- window passed (a record deleted and made again gets a new id from
-- AUTO_INCREMENT). failure_serial: bumped with every failure counted on the
-- record, never decremented. Existing records start at 0.

ALTER TABLE axes_accessattempt
    ADD COLUMN generation BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN failure_serial BIGINT NOT NULL DEFAULT 0;
