-- Scopes (axes_core::store, "Scopes"): a record belongs to one counting
-- namespace, and records of two scopes never count together. The default
-- rule counts in the scope ''; existing records get it, so they count as
-- before.
--
-- scope: at most 128 characters (MAX_SCOPE_CHARS), kept exactly (a longer
-- one is refused, never cut). The unique key and the six per-alternative
-- count indexes of migration 0003 gain it after the alternative's fields
-- (fields, scope, attempt_time): a count is still one index range (values
-- and scope equal, attempt_time above the window's start), index-only.
-- The scope does not lead: a reset or a listing filtered by ip_address
-- alone or username alone (all scopes) still reads an index that leads
-- with that column (ip_time, username_time and the others that start
-- alike).
--
-- Key lengths in utf8mb4 (4 bytes a character), within InnoDB's 3,072
-- bytes: the unique key (255 + 64 + 255 + 128 characters) 2,808 bytes; the
-- longest count index (username, user_agent, scope, attempt_time,
-- failures_since_start) 2,564 bytes.
--
-- One statement: MySQL does not roll DDL back, so the upgrade either
-- happens whole or not at all.

ALTER TABLE axes_accessattempt
    ADD COLUMN scope VARCHAR(128) NOT NULL DEFAULT '',
    DROP INDEX axes_accessattempt_key,
    ADD UNIQUE KEY axes_accessattempt_key (username, ip_address, user_agent, scope),
    DROP INDEX axes_accessattempt_ip_time,
    DROP INDEX axes_accessattempt_username_time,
    DROP INDEX axes_accessattempt_ip_username_time,
    DROP INDEX axes_accessattempt_ua_time,
    DROP INDEX axes_accessattempt_ip_ua_time,
    DROP INDEX axes_accessattempt_username_ua_time,
    ADD INDEX axes_accessattempt_ip_time (ip_address, scope, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_username_time
        (username, scope, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ip_username_time
        (ip_address, username, scope, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ua_time (user_agent, scope, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ip_ua_time
        (ip_address, user_agent, scope, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_username_ua_time
        (username, user_agent, scope, attempt_time, failures_since_start);
