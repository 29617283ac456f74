-- Scopes (axes_core::store, "Scopes"): a record belongs to one counting
-- namespace, and records of two scopes never count together. The default
-- rule counts in the scope ''; existing records get it, so they count as
-- before.
--
-- scope: at most 128 characters (MAX_SCOPE_CHARS), kept exactly (a longer
-- one is refused, never cut). The unique key and the six per-alternative
-- count indexes of migration 0003 gain it as their leading column: a count
-- is still one index range (scope and values equal, attempt_time above the
-- window's start), index-only. Key lengths in utf8mb4 (4 bytes a
-- character), within InnoDB's 3,072 bytes: the unique key (128 + 255 + 64
-- + 255 characters) 2,808 bytes; the longest count index (scope, username,
-- user_agent, attempt_time, failures_since_start) 2,564 bytes.
--
-- One statement: MySQL does not roll DDL back, so the upgrade either
-- happens whole or not at all.

ALTER TABLE axes_accessattempt
    ADD COLUMN scope VARCHAR(128) NOT NULL DEFAULT '',
    DROP INDEX axes_accessattempt_key,
    ADD UNIQUE KEY axes_accessattempt_key (scope, username, ip_address, user_agent),
    DROP INDEX axes_accessattempt_ip_time,
    DROP INDEX axes_accessattempt_username_time,
    DROP INDEX axes_accessattempt_ip_username_time,
    DROP INDEX axes_accessattempt_ua_time,
    DROP INDEX axes_accessattempt_ip_ua_time,
    DROP INDEX axes_accessattempt_username_ua_time,
    ADD INDEX axes_accessattempt_ip_time (scope, ip_address, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_username_time
        (scope, username, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ip_username_time
        (scope, ip_address, username, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ua_time (scope, user_agent, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ip_ua_time
        (scope, ip_address, user_agent, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_username_ua_time
        (scope, username, user_agent, attempt_time, failures_since_start);
